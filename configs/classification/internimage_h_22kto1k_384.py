# InternImage-H, 22k -> 1k fine-tune at 384 (published top-1 89.2; published file
# internimage_h_22kto1k_384.pth): the 640 recipe (attention-pooling head, drop path 0.2,
# gradient checkpointing, lr 2e-5, layer decay 0.9, DCN offsets at 0.1x lr) at 384.
_base_ = './internimage_h_22kto1k_640.py'

train_dataloader = dict(dataset=dict(transform=dict(input_size=384)))
val_dataloader = dict(dataset=dict(transform=dict(input_size=384)))
test_dataloader = val_dataloader
