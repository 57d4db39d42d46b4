# DINO on CB-InternImage-H, Objects365 -> PASCAL VOC, VOC 2012 test (published 97.2 mAP from the
# evaluation server; published file dino_4scale_cbinternimage_h_objects365_voc0712.pth, the
# same model as the VOC 2007 config, whose training and validation this one keeps). The test
# labels are withheld: testing writes the server's result files
# (work_dirs/voc12_submission/results/VOC2012/Main/comp4_det_test_<class>.txt, detection.
# VOCSubmissionWriter) to upload as a tar. Test data as published: data/VOCdevkit/VOC2012test/
# (ImageSets/Main/test.txt, JPEGImages/, and the Annotations/<id>.xml mmdet's VOCDataset reads).
_base_ = './dino_4scale_cbinternimage_h_objects365_voc07.py'

test_dataloader = dict(dataset=dict(ann_file='VOC2012test/ImageSets/Main/test.txt',
                                    data_prefix=dict(sub_data_root='VOC2012test/')))
test_evaluator = dict(_delete_=True, type='VOCSubmissionWriter',
                      outfile_dir='work_dirs/voc12_submission')
