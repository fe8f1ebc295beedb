#!/usr/bin/python3
"""Makes data/testcard.png, nd's default picture for the affine-transform lab:
320×240 RGB with a grid, colour gradients, colour bars, text and shapes that
are not symmetric, so every flip, rotation, shear and translation shows.
Run with Debian's /usr/bin/python3 (numpy + cv2)."""
import os

import cv2
import numpy as np

H, W = 240, 320
y, x = np.mgrid[0:H, 0:W].astype(np.float64)
img = np.zeros((H, W, 3), np.float64)  # RGB
img[..., 0] = 255 * x / (W - 1)  # red grows to the right
img[..., 1] = 255 * y / (H - 1)  # green grows downwards
img[..., 2] = 255 * (1 - x / (W - 1)) * (1 - y / (H - 1))  # blue in the top-left corner
img = img.astype(np.uint8)

# colour bars along the bottom
bars = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
        (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]
bw = W // len(bars)
for i, c in enumerate(bars):
    img[H - 40:H - 16, i * bw:(i + 1) * bw] = c
# a grey ramp under them
img[H - 16:, :] = np.linspace(0, 255, W).astype(np.uint8)[None, :, None]

bgr = np.ascontiguousarray(img[..., ::-1])
for gx in range(0, W, 20):  # grid every 20 pixels
    cv2.line(bgr, (gx, 0), (gx, H - 41), (255, 255, 255) if gx % 80 == 0 else (128, 128, 128), 1)
for gy in range(0, H - 40, 20):
    cv2.line(bgr, (0, gy), (W - 1, gy), (255, 255, 255) if gy % 80 == 0 else (128, 128, 128), 1)
cv2.circle(bgr, (W // 2, (H - 40) // 2), 60, (255, 255, 255), 2, cv2.LINE_AA)
cv2.rectangle(bgr, (12, 12), (60, 44), (0, 0, 255), -1)  # a red block top-left
cv2.arrowedLine(bgr, (W - 70, 30), (W - 20, 30), (0, 0, 0), 3, tipLength=0.4)  # points right
cv2.putText(bgr, "nd test card", (70, 112), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 3, cv2.LINE_AA)
cv2.putText(bgr, "nd test card", (70, 112), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 1, cv2.LINE_AA)
cv2.putText(bgr, "F", (20, 180), cv2.FONT_HERSHEY_DUPLEX, 1.6, (0, 255, 255), 2, cv2.LINE_AA)
cv2.putText(bgr, "y", (280, 180), cv2.FONT_HERSHEY_DUPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA)

here = os.path.dirname(os.path.abspath(__file__))
cv2.imwrite(os.path.join(here, "testcard.png"), bgr)
