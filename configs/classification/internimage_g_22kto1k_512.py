# InternImage-G, 22k -> 1k fine-tune at 512 (published top-1 90.1): the released
# internimage_g_22kto1k_512.pth, trained with the published configs/without_lr_decay/
# internimage_g_22kto1k_512.yaml: the H-640 recipe (no layer decay, float16 autocast, gradient
# checkpointing) on G with drop path 0.4, from checkpoints/internimage_g_pretrainto22k_384.pth.
# Launch as published: 64 GPUs x 8 images (total 512: lr 2e-5).
_base_ = './internimage_h_22kto1k_640.py'

image_size = 512
model = dict(classifier=dict(arch='g', drop_path_rate=0.4))

train_dataloader = dict(batch_size=8, dataset=dict(transform=dict(input_size=image_size)))
val_dataloader = dict(batch_size=8, dataset=dict(transform=dict(input_size=image_size)))
test_dataloader = val_dataloader
