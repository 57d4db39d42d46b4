# InternImage-G, 22k -> 1k fine-tune at 512 (published top-1 90.1): post-norm, every 6th level-2
# block followed by a norm, attention-pooling head. drop_path_rate 0.2 is our choice.
_base_ = './internimage_h_22kto1k_640.py'

model = dict(classifier=dict(channels=512, depths=[2, 2, 48, 4], groups=[16, 32, 64, 128],
                             res_post_norm=False, post_norm=True,
                             level2_post_norm_block_ids=[5, 11, 17, 23, 29, 35, 41, 47]))

train_dataloader = dict(dataset=dict(transform=dict(input_size=512)))
val_dataloader = dict(dataset=dict(transform=dict(input_size=512)))
test_dataloader = val_dataloader
