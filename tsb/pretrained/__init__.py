"""Pretrained networks that ship inside pip packages, loaded offline and hash-checked.

- :mod:`tsb.pretrained.packages`: where each weights file is, its hash, the pip command;
- :mod:`tsb.pretrained.easyocr`: EasyOCR English g2 recognizer (the recognition loss);
- :mod:`tsb.pretrained.ppocr`: PP-OCRv6 through rapidocr (the judge of evaluate.py);
- :mod:`tsb.pretrained.imagenet`: ImageNet VGG16 / AlexNet weights (LPIPS, perceptual losses);
- :mod:`tsb.pretrained.vgg`: the frozen ImageNet VGG16 feature network;
- :mod:`tsb.pretrained.registry`: the names configs use for them.

The FID Inception is in :mod:`tsb.metrics.fid`; licences are listed in docs/pretrained.md.
"""
