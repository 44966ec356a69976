"""Decodes PNG files with the standard library only, to check that an image is not blank."""
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


class PngError(Exception):
    pass


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def size(path):
    """(width, height) of a PNG file from its header."""
    with open(path, "rb") as f:
        head = f.read(24)
    if not head.startswith(SIGNATURE) or head[12:16] != b"IHDR":
        raise PngError(f"{path}: not a PNG file")
    return struct.unpack(">II", head[16:24])


def decode(path):
    """(width, height, rows) where rows is a list of bytes, `bpp` bytes per pixel (8-bit images)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(SIGNATURE):
        raise PngError(f"{path}: not a PNG file")
    pos, idat, header, palette = 8, [], None, None
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None or not idat:
        raise PngError(f"{path}: no IHDR or no image data")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace:
        raise PngError(f"{path}: only 8-bit non-interlaced PNGs are checked (depth {depth}, type {colour})")
    bpp = CHANNELS[colour]
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise PngError(f"{path}: corrupt image data ({e})")
    stride = width * bpp
    if len(raw) < height * (stride + 1):
        raise PngError(f"{path}: truncated image data")
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up_left = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], up_left)) & 0xFF
        elif ftype != 0:
            raise PngError(f"{path}: bad filter type {ftype} in row {y}")
        rows.append(bytes(line))
        prev = line
    if colour == 3 and palette:
        rows = [b"".join(palette[3 * i:3 * i + 3] for i in row) for row in rows]
        bpp = 3
    return width, height, bpp, rows


def ink_fraction(path):
    """Fraction of pixels that differ from the most common colour (the background).

    A blank or single-colour image gives 0; a plot with axes, text and lines gives a few percent.
    """
    width, height, bpp, rows = decode(path)
    counts = {}
    for row in rows:
        for x in range(0, width * bpp, bpp):
            px = row[x:x + bpp]
            counts[px] = counts.get(px, 0) + 1
    background = max(counts.values())
    total = width * height
    return (total - background) / total if total else 0.0, len(counts), (width, height)
