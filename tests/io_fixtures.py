"""Small synthetic input files for the reader/converter tests.

Usage: python3 tests/io_fixtures.py KIND OUT [ARGS...]
Run with the system python (/usr/bin/python3) for h5py/numpy; the IDX, CIFAR and PNG
writers use the standard library only, so their output is independent of the readers.
"""
import gzip
import os
import random
import struct
import sys
import zlib


def idx_images(path, n, h, w, seed=1, gz=True, magic=0x803, dims=None, extra=b""):
    rnd = random.Random(seed)
    dims = dims if dims is not None else (n, h, w)
    head = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    data = bytes(rnd.randrange(256) for _ in range(n * h * w))
    (gzip.open if gz else open)(path, "wb").write(head + data + extra)


def idx_labels(path, n, seed=2, gz=True, magic=0x801):
    rnd = random.Random(seed)
    data = bytes(rnd.randrange(10) for _ in range(n))
    (gzip.open if gz else open)(path, "wb").write(struct.pack(">II", magic, n) + data)


def cifar(path, n, labelbytes, nclasses, seed=3, badlabel=False):
    rnd = random.Random(seed)
    out = bytearray()
    for i in range(n):
        fine = rnd.randrange(nclasses)
        if badlabel and i == n - 1:
            fine = nclasses + 2
        if labelbytes == 2:
            out += bytes([rnd.randrange(20), fine])
        else:
            out += bytes([fine])
        out += bytes(rnd.randrange(256) for _ in range(3072))
    open(path, "wb").write(bytes(out))


def png(path, w, h, colortype, depth, pixels, palette=None):
    """pixels: flat list of samples, row-major, channels interleaved (palette indices
    for colour type 3, with palette a list of (r, g, b))."""
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colortype]
    nb = depth // 8
    raw = bytearray()
    for r in range(h):
        raw.append(0)  # filter: none
        for s in pixels[r * w * ch:(r + 1) * w * ch]:
            raw += s.to_bytes(nb, "big")

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, depth, colortype, 0, 0, 0)
    plte = chunk(b"PLTE", bytes(v for rgb in palette for v in rgb)) if palette else b""
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + plte + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def png_folder(root, kind, seed=4):
    """Class folders b_cls, a_cls (sorted: a_cls=0, b_cls=1, c_cls=2). Writes the expected
    HWC uint8 pixels and labels in conversion order to root + '.expect' (one image a line)."""
    rnd = random.Random(seed)
    h, w = 5, 4
    expect = []
    for k, cls in enumerate(["a_cls", "b_cls", "c_cls"]):
        os.makedirs(os.path.join(root, cls))
        for i in range(2 + k):
            name = os.path.join(root, cls, "img%02d.png" % i)
            if kind == "gray":
                px = [rnd.randrange(256) for _ in range(h * w)]
                png(name, w, h, 0, 8, px)
                expect.append((k, px))
            elif kind == "rgb16a":
                # 16-bit RGBA: the reader strips to 8 bits (high byte) and drops alpha
                px16 = [rnd.randrange(65536) for _ in range(h * w * 4)]
                png(name, w, h, 6, 16, px16)
                exp = [px16[p * 4 + c] >> 8 for p in range(h * w) for c in range(3)]
                expect.append((k, exp))
            elif kind == "palette":
                pal = [(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)) for _ in range(7)]
                idx = [rnd.randrange(7) for _ in range(h * w)]
                png(name, w, h, 3, 8, idx, palette=pal)
                expect.append((k, [pal[p][c] for p in idx for c in range(3)]))
    with open(root + ".expect", "w") as f:
        for k, px in expect:
            f.write("%d %s\n" % (k, " ".join(map(str, px))))


def digit_png_folder(root, kind, per_class, classes=(0, 1, 7), seed=5):
    """Real digits as a PNG folder, a subfolder per class named by the digit's word:
    the first per_class images of each class in data/mnist-2000.h5. gray: 28x28 as they
    are; rgb: 32x32 colour, each digit in a random colour on a random dark background
    (colour says nothing about the class)."""
    import h5py
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    f = h5py.File("data/mnist-2000.h5", "r")
    x, y = f["images"][:, :, :, 0], f["labels"][:]
    rnd = random.Random(seed)
    for c in classes:
        os.makedirs(os.path.join(root, words[c]))
        for j, i in enumerate([i for i in range(len(y)) if y[i] == c][:per_class]):
            name = os.path.join(root, words[c], "img%04d.png" % j)
            if kind == "gray":
                png(name, 28, 28, 0, 8, [int(v) for v in x[i].ravel()])
                continue
            fg = [rnd.randrange(128, 256) for _ in range(3)]
            bg = [rnd.randrange(0, 64) for _ in range(3)]
            px = []
            for r in range(32):
                for s in range(32):
                    v = int(x[i][r - 2, s - 2]) if 2 <= r < 30 and 2 <= s < 30 else 0
                    px += [(bg[k] * (255 - v) + fg[k] * v) // 255 for k in range(3)]
            png(name, 32, 32, 2, 8, px)


def h5(path, kind):
    import h5py
    import numpy as np

    rng = np.random.default_rng(5)
    with h5py.File(path, "w") as f:
        if kind == "u8":  # N not divisible by 2 or 4, int16 labels
            f["images"] = rng.integers(0, 256, (7, 3, 5, 2), dtype=np.uint8)
            f["labels"] = np.array([3, 0, 1, 3, 2, 0, 1], dtype=np.int16)
        elif kind == "u8small":  # fewer images than ranks
            f["images"] = rng.integers(0, 256, (3, 4, 4, 1), dtype=np.uint8)
            f["labels"] = np.array([1, 0, 1], dtype=np.uint64)
        elif kind in ("f32", "f64"):
            x = rng.integers(0, 256, (5, 4, 4, 3)) / 255.0
            f.create_dataset("images", data=x.astype(np.float32 if kind == "f32" else np.float64), chunks=(2, 4, 4, 3), compression="gzip")
        elif kind in ("nan", "inf", "range"):
            x = rng.random((6, 4, 4, 1), dtype=np.float32)
            x[4, 1, 2, 0] = {"nan": np.nan, "inf": np.inf, "range": 1.5}[kind]
            f["images"] = x
        elif kind == "noimages":
            f["pixels"] = np.zeros((2, 4, 4, 1), np.uint8)
        elif kind == "rank3":
            f["images"] = np.zeros((2, 4, 4), np.uint8)
        elif kind == "zerodim":
            f["images"] = np.zeros((0, 4, 4, 1), np.uint8)
        elif kind == "string":
            f["images"] = np.array([[[[b"ab"]]]], dtype="S2")
        elif kind == "int16":
            f["images"] = np.zeros((2, 4, 4, 1), np.int16)
        elif kind == "overflow":  # dimensions whose product overflows 64 bits; never written
            f.create_dataset("images", shape=(2**31 - 1, 2**30, 2**30, 1), dtype=np.uint8, chunks=(1, 1, 1, 1))
        elif kind == "unwritten":
            f.create_dataset("images", shape=(100000, 28, 28, 1), dtype=np.uint8, chunks=(10, 28, 28, 1))
        elif kind == "labellen":
            f["images"] = np.zeros((4, 4, 4, 1), np.uint8)
            f["labels"] = np.zeros(3, np.int32)
        elif kind == "labelneg":
            f["images"] = np.zeros((4, 4, 4, 1), np.uint8)
            f["labels"] = np.array([0, 1, -1, 2], np.int32)
        elif kind == "labelfloat":
            f["images"] = np.zeros((4, 4, 4, 1), np.uint8)
            f["labels"] = np.zeros(4, np.float32)
        elif kind == "one":
            f["images"] = np.zeros((1, 4, 4, 1), np.uint8)
        else:
            raise SystemExit("unknown h5 kind " + kind)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if kind == "idx":  # idx OUT N H W [plain] [magic=0x...] [dims=a,b,c] [extra=k]
        opts = dict(a.split("=") for a in args[3:] if "=" in a)
        dims = tuple(int(d) for d in opts["dims"].split(",")) if "dims" in opts else None
        idx_images(out, int(args[0]), int(args[1]), int(args[2]), gz="plain" not in args, magic=int(opts.get("magic", "0x803"), 16), dims=dims, extra=b"\0" * int(opts.get("extra", "0")))
    elif kind == "labels":  # labels OUT N [plain] [magic=0x...]
        opts = dict(a.split("=") for a in args[1:] if "=" in a)
        idx_labels(out, int(args[0]), gz="plain" not in args, magic=int(opts.get("magic", "0x801"), 16))
    elif kind == "cifar":  # cifar OUT N LABELBYTES NCLASSES [badlabel] [seed=S]
        opts = dict(a.split("=") for a in args[3:] if "=" in a)
        cifar(out, int(args[0]), int(args[1]), int(args[2]), seed=int(opts.get("seed", "3")), badlabel="badlabel" in args)
    elif kind == "png":  # png OUT W H COLORTYPE DEPTH  (random pixels)
        w, h, ct, d = map(int, args[:4])
        ch = {0: 1, 2: 3, 4: 2, 6: 4}[ct]  # no palette here
        rnd = random.Random(6)
        png(out, w, h, ct, d, [rnd.randrange(2**d) for _ in range(w * h * ch)])
    elif kind == "pngdir":  # pngdir ROOT gray|rgb16a|palette
        png_folder(out, args[0])
    elif kind == "digitpng":  # digitpng ROOT gray|rgb PER_CLASS
        digit_png_folder(out, args[0], int(args[1]))
    elif kind == "h5":
        h5(out, args[0])
    else:
        raise SystemExit("unknown kind " + kind)


if __name__ == "__main__":
    main()
