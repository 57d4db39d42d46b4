# InternImage-G, 22k -> 1k fine-tune at 512 (published top-1 90.1): post-norm, every 6th level-2
# block followed by a norm, attention-pooling head. drop_path_rate 0.2 is our choice.
_base_ = './internimage_h_22kto1k_640.py'

model = dict(classifier=dict(arch='g'))

train_dataloader = dict(dataset=dict(transform=dict(input_size=512)))
val_dataloader = dict(dataset=dict(transform=dict(input_size=512)))
test_dataloader = val_dataloader
