"""Classic UNet (four levels, concatenation skips, conv-BN-ReLU blocks) for the defect segmentation sample."""
import torch
import torch.nn as nn

NUM_CLASSES = 3
MEAN = 0.5
STD = 0.25


class Block(nn.Module):
    """Two 3x3 conv-BN-ReLU layers; `mid` may differ from `out` after structured pruning."""

    def __init__(self, cin, mid, out):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        return self.act(self.bn2(self.conv2(x)))


class UNet(nn.Module):
    """widths: output channels of the four encoder levels (the last is the bottleneck).
    mids: optional per-block inner widths (enc1..enc4, dec3..dec1), used by pruned models;
    ups: optional output widths of the three transposed convolutions."""

    def __init__(self, widths=(16, 32, 64, 128), mids=None, ups=None, num_classes=NUM_CLASSES):
        super().__init__()
        w1, w2, w3, w4 = widths
        mids = mids or [w1, w2, w3, w4, w3, w2, w1]
        ups = ups or [w3, w2, w1]
        self.widths, self.mids, self.ups = list(widths), list(mids), list(ups)
        self.enc1 = Block(3, mids[0], w1)
        self.enc2 = Block(w1, mids[1], w2)
        self.enc3 = Block(w2, mids[2], w3)
        self.enc4 = Block(w3, mids[3], w4)
        self.pool = nn.MaxPool2d(2)
        self.up3 = nn.ConvTranspose2d(w4, ups[0], 2, stride=2)
        self.dec3 = Block(ups[0] + w3, mids[4], w3)
        self.up2 = nn.ConvTranspose2d(w3, ups[1], 2, stride=2)
        self.dec2 = Block(ups[1] + w2, mids[5], w2)
        self.up1 = nn.ConvTranspose2d(w2, ups[2], 2, stride=2)
        self.dec1 = Block(ups[2] + w1, mids[6], w1)
        self.head = nn.Conv2d(w1, num_classes, 1)

    def config(self):
        return {"widths": self.widths, "mids": self.mids, "ups": self.ups}

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        e4 = self.enc4(self.pool(e3))
        d3 = self.dec3(torch.cat([self.up3(e4), e3], 1))
        d2 = self.dec2(torch.cat([self.up2(d3), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.head(d1)


def build(config):
    return UNet(config["widths"], config.get("mids"), config.get("ups"))


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu")
    model = build(ckpt["config"])
    model.load_state_dict(ckpt["model"])
    return model, ckpt
