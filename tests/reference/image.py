#!/usr/bin/python3
"""Golden values for libnd_image's tests (tests/unit/test_image*.c, test_warp.c,
test_grid_sample.c), written to tests/golden/image_*.npy.

- PngSuite files decoded by OpenCV (cv2.IMREAD_UNCHANGED), brought to nd's
  conventions: RGB(A) order instead of BGR(A), (H, W, 1) for grey, 16-bit
  samples >> 8, and grey with a tRNS colour key as RGBA (OpenCV drops the key).
- cv2.warpAffine of data/testcard.png by the course's matrices (bilinear and
  nearest, zeros outside), with the matrices used.
- torch.nn.functional.affine_grid / grid_sample forward values and gradients.

Run with Debian's /usr/bin/python3 (numpy, cv2, torch) from anywhere.
"""
import math
import os
import struct

import cv2
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")
SUITE = os.path.join(ROOT, "tests", "data", "pngsuite")


def save(name, array):
    np.save(os.path.join(GOLDEN, "image_" + name + ".npy"), np.ascontiguousarray(array))


# ------------------------------------------------------------------ PngSuite

def png_chunks(path):
    data = open(path, "rb").read()
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind.decode("latin1"), data[pos + 8:pos + 8 + length]
        pos += 12 + length


def png_as_nd(path):
    """What nd_image_read must give for a PngSuite file."""
    chunks = dict(png_chunks(path))
    _, _, depth, colour = struct.unpack(">IIBB", chunks["IHDR"][:10])
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] == 3:
        img = img[:, :, ::-1]
    elif img.shape[2] == 4:
        img = img[:, :, [2, 1, 0, 3]]
    if colour == 0 and "tRNS" in chunks:  # grey with a colour key: nd gives RGBA
        key = struct.unpack(">H", chunks["tRNS"][:2])[0]
        raw = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.int64)
        if depth < 8:  # cv2 scaled the samples up by bit replication
            raw = raw // (255 // ((1 << depth) - 1))
        alpha = np.where(raw == key, 0, 255).astype(np.uint8)
        img = np.concatenate([img, img, img, alpha[:, :, None]], axis=2)
    return img


PNG_SET = ["basn0g01", "basn0g02", "basn0g04", "basn0g08", "basn0g16", "basn2c08", "basn2c16",
           "basn3p01", "basn3p02", "basn3p04", "basn3p08", "basn4a08", "basn4a16", "basn6a08",
           "basn6a16", "basi0g16", "basi2c08", "basi3p08", "basi6a16", "tbbn0g04", "tbwn0g16",
           "tbbn2c16", "tbrn2c08", "tbbn3p08", "tp0n3p08", "tm3n3p02", "s01n3p01", "s33i3p04",
           "g03n2c08", "oi9n2c16", "z09n2c08", "cs3n2c16", "f04n2c08", "ch1n3p04"]


def pngsuite():
    for name in PNG_SET:
        save("png_" + name, png_as_nd(os.path.join(SUITE, name + ".png")))


# -------------------------------------------------------------------- warps

def translate(tx, ty): return np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], np.float64)
def scale(sx, sy): return np.array([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], np.float64)
def shear(ex, ey): return np.array([[1, ex, 0], [ey, 1, 0], [0, 0, 1]], np.float64)


def rotate(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]], np.float64)


def rotate_about(theta, cx, cy):  # as nd_affine_rotate_about multiplies it out
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, s, cx - c * cx - s * cy], [-s, c, cy + s * cx - c * cy], [0, 0, 1]])


# name -> (matrix, out_h, out_w); the C tests build the same matrices with nd
WARPS = {
    "translate": (translate(30.5, -20.25), 240, 320),
    "scale": (scale(1.5, 0.75), 240, 320),
    "rotate": (rotate(0.3), 240, 320),
    "rotate_about": (rotate_about(math.pi / 6, 159.5, 119.5), 240, 320),
    "shear": (shear(0.3, -0.2), 240, 320),
    "compose": (translate(20, 10) @ rotate_about(-0.4, 160, 120) @ scale(0.8, 1.2), 200, 300),
    "shrink": (scale(0.5, 0.5), 120, 160),
    "grow": (rotate_about(1.0, 160, 120), 300, 400),
}


def warps():
    bgr = cv2.imread(os.path.join(ROOT, "data", "testcard.png"), cv2.IMREAD_UNCHANGED)
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    for name, (m, h, w) in WARPS.items():
        save("warp_%s_m" % name, m)
        for interp, flag in (("linear", cv2.INTER_LINEAR), ("nearest", cv2.INTER_NEAREST)):
            out = cv2.warpAffine(rgb, m[:2], (w, h), flags=flag, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=0)
            save("warp_%s_%s" % (name, interp), out)
    m = WARPS["rotate_about"][0]
    grey = np.ascontiguousarray(rgb[:, :, 1])
    save("warp_grey_linear", cv2.warpAffine(grey, m[:2], (320, 240), flags=cv2.INTER_LINEAR))
    rgba = np.ascontiguousarray(np.dstack([rgb, rgb[:, :, 0]]))
    save("warp_rgba_linear", cv2.warpAffine(rgba, m[:2], (320, 240), flags=cv2.INTER_LINEAR))
    plane = (grey.astype(np.float32) / 255).astype(np.float32)
    save("warp_float_linear", cv2.warpAffine(plane, m[:2], (320, 240), flags=cv2.INTER_LINEAR))


# -------------------------------------------------- affine_grid / grid_sample

def grids():
    torch.manual_seed(0)
    theta = (torch.tensor([[1.0, 0, 0], [0, 1, 0]], dtype=torch.float64) +
             0.3 * torch.randn(2, 2, 3, dtype=torch.float64))
    save("theta", theta.numpy())
    weight_grid = torch.randn(2, 5, 7, 2, dtype=torch.float64)
    save("grid_weight", weight_grid.numpy())
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    save("sample_input", x.numpy())
    grid = torch.rand(2, 4, 3, 2, dtype=torch.float64) * 2.6 - 1.3  # some points outside
    save("sample_grid", grid.numpy())
    weight_out = torch.randn(2, 3, 4, 3, dtype=torch.float64)
    save("sample_weight", weight_out.numpy())
    for align in (False, True):
        tag = "align" if align else "noalign"
        th = theta.clone().requires_grad_(True)
        g = F.affine_grid(th, (2, 3, 5, 7), align_corners=align)
        (g * weight_grid).sum().backward()
        save("affine_grid_" + tag, g.detach().numpy())
        save("affine_grid_gtheta_" + tag, th.grad.numpy())
        xi = x.clone().requires_grad_(True)
        gi = grid.clone().requires_grad_(True)
        out = F.grid_sample(xi, gi, mode="bilinear", padding_mode="zeros", align_corners=align)
        (out * weight_out).sum().backward()
        save("sample_out_" + tag, out.detach().numpy())
        save("sample_ginput_" + tag, xi.grad.numpy())
        save("sample_ggrid_" + tag, gi.grad.numpy())
        out32 = F.grid_sample(x.float(), grid.float(), align_corners=align)
        save("sample_out32_" + tag, out32.numpy())
    # the differentiable warp on a picture: rotate the test card by 0.5 rad
    bgr = cv2.imread(os.path.join(ROOT, "data", "testcard.png"), cv2.IMREAD_UNCHANGED)
    card = torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1)[None].float() / 255
    c, s = math.cos(0.5), math.sin(0.5)
    th = torch.tensor([[[c, -s, 0.1], [s, c, -0.2]]], dtype=torch.float32)
    g = F.affine_grid(th, (1, 3, 240, 320), align_corners=False)
    save("card_rotated", F.grid_sample(card, g, align_corners=False).numpy())


if __name__ == "__main__":
    os.makedirs(GOLDEN, exist_ok=True)
    pngsuite()
    warps()
    grids()
