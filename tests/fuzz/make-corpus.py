"""Writes the seed corpus of the fuzz harnesses: tests/fuzz/corpus/<harness>/.
Small valid files of every supported variant and a few invalid ones. Run with the
system python (h5py, numpy): /usr/bin/python3 tests/fuzz/make-corpus.py"""
import gzip, os, struct, sys, zlib
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import io_fixtures as fx  # noqa: E402

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(harness, name, data):
    d = os.path.join(root, harness)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)


def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


# IDX: images (3 dims) and labels (1 dim), plain and gzip
put("fuzz_idx", "images-1x2x2", idx(0x803, (1, 2, 2), range(4)))
put("fuzz_idx", "images-3x4x4.gz", gzip.compress(idx(0x803, (3, 4, 4), range(48)), mtime=0))
put("fuzz_idx", "labels-1", idx(0x801, (1,), [7]))
put("fuzz_idx", "labels-3.gz", gzip.compress(idx(0x801, (3,), [1, 2, 3]), mtime=0))
put("fuzz_idx", "bad-magic", idx(0x802, (1, 2, 2), range(4)))
put("fuzz_idx", "bad-truncated", idx(0x803, (2, 2, 2), range(5)))
put("fuzz_idx", "bad-trailing", idx(0x803, (1, 2, 2), range(6)))
put("fuzz_idx", "bad-zero-dim", idx(0x803, (0, 2, 2), []))
put("fuzz_idx", "bad-huge", idx(0x803, (0xFFFFFFFF, 0xFFFF, 0xFFFF), range(8)))
put("fuzz_idx", "bad-empty", b"")
put("fuzz_idx", "bad-gz-truncated", gzip.compress(idx(0x803, (3, 4, 4), range(48)), mtime=0)[:30])

# CIFAR: one record of CIFAR-10 (1 label byte) and CIFAR-100 (2), gzip, invalid
px = bytes((i * 7) % 256 for i in range(3072))
put("fuzz_cifar", "cifar10-1", bytes([3]) + px)
put("fuzz_cifar", "cifar100-1", bytes([5, 42]) + px)
put("fuzz_cifar", "cifar10-2.gz", gzip.compress(bytes([1]) + px + bytes([9]) + px, mtime=0))
put("fuzz_cifar", "bad-label", bytes([200]) + px)
put("fuzz_cifar", "bad-size", bytes([1]) + px[:100])
put("fuzz_cifar", "bad-empty", b"")


def png_bytes(w, h, colortype, depth, samples, palette=None, interlace=0):
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colortype]
    raw = bytearray()
    if depth < 8:  # samples already packed per row
        per = (w * depth + 7) // 8
        for r in range(h):
            raw.append(0)
            raw += bytes(samples[r * per:(r + 1) * per])
    else:
        for r in range(h):
            raw.append(0)
            for s in samples[r * w * ch:(r + 1) * w * ch]:
                raw += s.to_bytes(depth // 8, "big")

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colortype, 0, 0, interlace))
    if palette:
        out += chunk(b"PLTE", bytes(v for rgb in palette for v in rgb))
    return out + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")


put("fuzz_png", "gray-2x2.png", png_bytes(2, 2, 0, 8, [0, 1, 2, 3]))
put("fuzz_png", "rgb-3x2.png", png_bytes(3, 2, 2, 8, list(range(18))))
put("fuzz_png", "rgba16-2x2.png", png_bytes(2, 2, 6, 16, [i * 4000 for i in range(16)]))
put("fuzz_png", "graya-2x2.png", png_bytes(2, 2, 4, 8, list(range(8))))
put("fuzz_png", "palette-2x2.png", png_bytes(2, 2, 3, 8, [0, 1, 1, 0], palette=[(255, 0, 0), (0, 0, 255)]))
put("fuzz_png", "gray1bit-8x2.png", png_bytes(8, 2, 0, 1, [0xA5, 0x5A]))
put("fuzz_png", "bad-truncated.png", png_bytes(2, 2, 0, 8, [0, 1, 2, 3])[:40])
put("fuzz_png", "bad-not-png.png", b"not a png file\n")

# HDF5: the sanet input layout and a few invalid variants (contiguous, small)
import h5py  # noqa: E402
import numpy as np  # noqa: E402
tmp = os.path.join(root, "tmp.h5")


def h5(name, **dsets):
    with h5py.File(tmp, "w", libver="latest") as f:
        for k, v in dsets.items():
            f[k] = v
    put("fuzz_hdf5", name, open(tmp, "rb").read())
    os.remove(tmp)


h5("uint8-labels.h5", images=np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3, 1), labels=np.array([0, 1], np.int32))
h5("float32.h5", images=np.full((1, 2, 2, 1), 0.5, np.float32))
h5("rgb.h5", images=np.arange(12, dtype=np.uint8).reshape(1, 2, 2, 3), labels=np.array([3], np.int64))
h5("bad-rank3.h5", images=np.zeros((1, 2, 2), np.uint8))
h5("bad-nan.h5", images=np.full((1, 2, 2, 1), np.nan, np.float32))
h5("bad-label-negative.h5", images=np.zeros((1, 2, 2, 1), np.uint8), labels=np.array([-1], np.int32))
h5("bad-no-images.h5", labels=np.array([1], np.int32))
