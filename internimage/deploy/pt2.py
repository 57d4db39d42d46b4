"""PyTorch-native deployment: ``torch.export`` of a network with dynamic batch and image size,
compiled ahead of time by AOTInductor into one ``.pt2`` package. The package calls our
registered ``ops_dcnv3`` ops by name, so it runs wherever that library is loaded (``import
ops_dcnv3`` in Python; the ``_C`` library loaded before ``AOTIModelPackageLoader`` in C++),
without the model's code."""
import torch
from torch.export import Dim

# The smallest image side the networks export for: below it the last level is 1x1 and
# torch.export's shape guards refuse the range.
MIN_SIDE = 33
MAX_SIDE = 8192
MAX_BATCH = 1024


def export_pt2(network, example, out):
    """Writes ``network`` (eval mode; ``example`` an (N, 3, H, W) batch) to the package
    ``out``; returns its path."""
    dynamic = {0: Dim('batch', min=1, max=MAX_BATCH), 2: Dim('height', min=MIN_SIDE, max=MAX_SIDE),
               3: Dim('width', min=MIN_SIDE, max=MAX_SIDE)}
    with torch.no_grad():
        program = torch.export.export(network, (example,), dynamic_shapes=(dynamic,))
        return torch._inductor.aoti_compile_and_package(program, package_path=str(out))


def load_pt2(path):
    """The compiled network of a package written by ``export_pt2`` (callable on a batch)."""
    import ops_dcnv3  # noqa: F401  (registers the ops the package calls)
    return torch._inductor.aoti_load_package(str(path))
