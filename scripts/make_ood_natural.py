"""Regenerate python/scones/evaluation/ood_natural/natural.npz and SOURCES.md: 32x32 crops of photos
and scans of things that are not vehicles, from the sample images that Python packages ship (nothing downloaded).

Not part of the project's environment: run it with a throwaway virtual environment that has the
packages the sources come from, e.g.

    python3 -m venv /tmp/ood-src
    /tmp/ood-src/bin/pip install scikit-image==0.26.0 scikit-learn==1.9.1 matplotlib==3.11.2 numpy==2.4.6 pillow==13.0.0
    python3 -m venv /tmp/ood-old
    /tmp/ood-old/bin/pip install scipy==1.9.3 mahotas==1.4.19
    /tmp/ood-src/bin/python scripts/make_ood_natural.py \
        --extra-site /tmp/ood-old/lib/python3.11/site-packages [--sheet /tmp/ood-sheet.png]

scipy 1.9.3 is the last release that ships `scipy.misc.face` and `ascent`, and it cannot share an
environment with scikit-image 0.26, so those files (and mahotas's demo images) are read from the
second environment's site-packages (--extra-site); without it those sources are skipped (and the
output differs). The crops are cut with fixed seeds, so the same package
versions give the same bytes. Every crop comes from one source photo, and each source is wholly guide
or wholly report (SOURCES below): crops of one photo are never on both sides.

Where a photo shows a vehicle somewhere (the astronaut's space shuttle model, the boats on the lake
behind the pagoda), crops are cut only from a region that excludes it; the contact sheet
(--sheet) was checked by eye for anything vehicle-like.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import pickle
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 32
REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "python" / "scones" / "evaluation" / "ood_natural"


@dataclass(frozen=True)
class Source:
    id: str
    what: str  # what the photo shows, for the reader of SOURCES.md
    package: str  # where it comes from: package and path or function
    licence: str
    split: str  # "guide" or "report"
    load: Callable[[], np.ndarray]
    crops: int = 8
    # (top, left, bottom, right) as fractions: crops come only from inside this box.
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return np.asarray(getattr(skimage.data, name)())

    return load


def _sklearn(index: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_images

        return np.asarray(load_sample_images().images[index])

    return load


def _matplotlib(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from matplotlib import cbook

        return np.asarray(Image.open(cbook.get_sample_data(name, asfileobj=False)).convert("RGB"))

    return load


def _mri() -> np.ndarray:
    from matplotlib import cbook

    with gzip.open(cbook.get_sample_data("s1045.ima.gz", asfileobj=False)) as raw:
        scan = np.frombuffer(raw.read(), np.uint16).reshape((256, 256)).astype(float)
    return scan


# --extra-site: the site-packages holding scipy 1.9.3 and mahotas (main() sets it).
EXTRA_SITE: list[Path] = []


def _extra_file(relative: str) -> Path:
    for site in EXTRA_SITE:
        if (site / relative).is_file():
            return site / relative
    raise FileNotFoundError(f"{relative} not found: pass --extra-site with scipy 1.9.3 and mahotas installed")


def _raccoon() -> np.ndarray:
    # What scipy.misc.face() of scipy 1.9.3 does: bz2-compressed raw RGB bytes.
    return np.frombuffer(bz2.decompress(_extra_file("scipy/misc/face.dat").read_bytes()), np.uint8).reshape(
        (768, 1024, 3)
    )


def _ascent() -> np.ndarray:
    # What scipy.misc.ascent() of scipy 1.9.3 does: a pickled nested list, from a file scipy shipped.
    with _extra_file("scipy/misc/ascent.dat").open("rb") as raw:
        return np.array(pickle.load(raw)).astype(np.uint8)


def _mahotas(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        return np.asarray(Image.open(_extra_file(f"mahotas/demos/data/{name}")).convert("RGB"))

    return load


def _lfw_face(index: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return np.asarray(skimage.data.lfw_subset()[index])

    return load


SKIMAGE = "scikit-image 0.26.0, skimage.data"
SKIMAGE_BSD = "BSD-3-Clause (scikit-image's licence for its package data; the docstring states no other)"
SOURCES: list[Source] = [
    # people
    Source(
        "astronaut",
        "astronaut Eileen Collins (left part only: a space shuttle model stands on the right)",
        f"{SKIMAGE}.astronaut() (data/astronaut.png)",
        "public domain (NASA), per the docstring",
        "guide",
        _skimage("astronaut"),
        region=(0.0, 0.0, 1.0, 0.62),
    ),
    Source(
        "camera",
        "cameraman with a tripod camera, grey",
        f"{SKIMAGE}.camera() (data/camera.png)",
        "CC0 (Lav Varshney), per the docstring",
        "guide",
        _skimage("camera"),
    ),
    Source(
        "grace-hopper",
        "portrait of Grace Hopper",
        "matplotlib 3.11.2, mpl-data/sample_data/grace_hopper.jpg",
        "public domain (US Navy photograph); shipped under matplotlib's licence",
        "report",
        _matplotlib("grace_hopper.jpg"),
    ),
    # animals and plants
    Source(
        "chelsea",
        "Chelsea the cat",
        f"{SKIMAGE}.chelsea() (data/chelsea.png)",
        "CC0 (Stefan van der Walt), per the docstring",
        "report",
        _skimage("chelsea"),
    ),
    Source(
        "flower",
        "a dahlia",
        "scikit-learn 1.9.1, sklearn/datasets/images/flower.jpg",
        "CC BY 2.0 (vultilion on Flickr), per sklearn/datasets/images/README.txt",
        "guide",
        _sklearn(1),
    ),
    Source(
        "grass",
        "grass texture, grey",
        f"{SKIMAGE}.grass() (data/grass.png)",
        "CC0 (CC0Textures), per the docstring",
        "guide",
        _skimage("grass"),
    ),
    # objects
    Source(
        "coffee",
        "a cup of coffee on a saucer",
        f"{SKIMAGE}.coffee() (data/coffee.png)",
        "CC0 (Rachel Michetti), per the docstring",
        "report",
        _skimage("coffee"),
    ),
    Source(
        "clock",
        "a motion-blurred wall clock, grey",
        f"{SKIMAGE}.clock() (data/clock_motion.png)",
        "public domain (Stefan van der Walt), per the docstring",
        "report",
        _skimage("clock"),
    ),
    Source(
        "coins",
        "Greek coins from Pompeii, grey",
        f"{SKIMAGE}.coins() (data/coins.png)",
        "no known copyright restrictions (Brooklyn Museum), per the docstring",
        "guide",
        _skimage("coins"),
    ),
    # buildings and places
    Source(
        "pagoda",
        "the Tower of Buddhist Incense (left part only: boats on the lake at the right)",
        "scikit-learn 1.9.1, sklearn/datasets/images/china.jpg",
        "CC BY 2.0 (danielbuechele on Flickr), per sklearn/datasets/images/README.txt",
        "report",
        _sklearn(0),
        region=(0.0, 0.0, 1.0, 0.54),
    ),
    Source(
        "brick",
        "brick wall, grey",
        f"{SKIMAGE}.brick() (data/brick.png)",
        "CC0 (CC0Textures), per the docstring",
        "report",
        _skimage("brick"),
    ),
    Source(
        "gravel",
        "gravel texture, grey",
        f"{SKIMAGE}.gravel() (data/gravel.png)",
        "CC0 (CC0Textures), per the docstring",
        "guide",
        _skimage("gravel"),
    ),
    # text and scans
    Source(
        "page",
        "a scanned page of printed text",
        f"{SKIMAGE}.page() (data/page.png)",
        SKIMAGE_BSD,
        "report",
        _skimage("page"),
    ),
    Source(
        "text",
        "handwritten-style text photographed at an angle",
        f"{SKIMAGE}.text() (data/text.png)",
        "public domain (Wikipedia), per the docstring",
        "guide",
        _skimage("text"),
    ),
    Source(
        "mri",
        "MRI slice of a head",
        "matplotlib 3.11.2, mpl-data/sample_data/s1045.ima.gz",
        "matplotlib's licence (the sample data's README states no other)",
        "report",
        _mri,
    ),
    # science imagery
    Source(
        "hubble",
        "Hubble eXtreme Deep Field",
        f"{SKIMAGE}.hubble_deep_field() (data/hubble_deep_field.jpg)",
        "public domain (NASA), per the docstring",
        "report",
        _skimage("hubble_deep_field"),
    ),
    Source(
        "moon",
        "surface of the moon, grey",
        f"{SKIMAGE}.moon() (data/moon.png)",
        SKIMAGE_BSD,
        "guide",
        _skimage("moon"),
    ),
    Source(
        "retina",
        "a human retina (fundus photograph)",
        f"{SKIMAGE}.retina() (data/retina.jpg)",
        "CC0 (Häggström), per the docstring",
        "report",
        _skimage("retina"),
    ),
    Source(
        "microaneurysms",
        "detail of a retina, green channel, grey",
        f"{SKIMAGE}.microaneurysms() (data/microaneurysms.png)",
        "CC0 (Andreas Maier), per the docstring",
        "guide",
        _skimage("microaneurysms"),
        crops=4,
    ),
    Source(
        "ihc",
        "immunohistochemistry stained tissue",
        f"{SKIMAGE}.immunohistochemistry() (data/ihc.png)",
        "no known copyright restrictions, per the docstring",
        "guide",
        _skimage("immunohistochemistry"),
    ),
    Source(
        "cell",
        "a cell floating in saline (quantitative phase image), grey",
        f"{SKIMAGE}.cell() (data/cell.png)",
        "CC0, per the docstring",
        "report",
        _skimage("cell"),
    ),
    Source(
        "raccoon",
        "a raccoon's face",
        "scipy 1.9.3, scipy.misc.face() (scipy/misc/face.dat)",
        "public domain (raccoon-procyon-lotor.jpg, public-domain-image.com), per the docstring",
        "guide",
        _raccoon,
    ),
    Source(
        "ascent",
        "people on a stairway, grey",
        "scipy 1.9.3, scipy.misc.ascent() (scipy/misc/ascent.dat)",
        "public domain (accent-to-the-top.jpg, public-domain-image.com), per the docstring",
        "report",
        _ascent,
    ),
    Source(
        "luispedro",
        "portrait of mahotas's author",
        "mahotas 1.4.19, mahotas/demos/data/luispedro.jpg",
        "MIT (mahotas's licence; the demo states no other)",
        "report",
        _mahotas("luispedro.jpg"),
    ),
    Source(
        "nuclear",
        "fluorescence microscopy of cell nuclei",
        "mahotas 1.4.19, mahotas/demos/data/nuclear.png",
        "MIT (mahotas's licence; the demo states no other)",
        "guide",
        _mahotas("nuclear.png"),
    ),
]
# Faces from Labeled Faces in the Wild as skimage ships them (25x25 grey, one crop each: each face is
# its own photo). The first 30 guide, the next 30 report.
LFW_LICENCE = (
    "shipped in scikit-image under its BSD-3-Clause licence; LFW itself (news photographs, "
    "vis-www.cs.umass.edu/lfw) states no licence and is published for research"
)
SOURCES += [
    Source(
        f"lfw-face-{index:03d}",
        "a face (Labeled Faces in the Wild), grey",
        f"{SKIMAGE}.lfw_subset()[{index}] (data/lfw_subset.npy)",
        LFW_LICENCE,
        "guide" if index < 30 else "report",
        _lfw_face(index),
        crops=1,
    )
    for index in range(60)
]


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Any dtype, grey or RGB(A), to RGB uint8: floats and wide integers stretched between the 0.5th
    and 99.5th percentiles (scans such as the MRI are 12-bit)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        low, high = np.percentile(image, [0.5, 99.5])
        image = np.clip((image.astype(float) - low) / max(high - low, 1e-9) * 255, 0, 255).round().astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return image[..., :3]


def crops(source: Source) -> list[np.ndarray]:
    """The whole region squeezed to its central square, then random squares of 25-80% of its short side."""
    image = _as_rgb_uint8(source.load())
    height, width = image.shape[:2]
    top, left, bottom, right = source.region
    region = image[int(top * height) : int(bottom * height), int(left * width) : int(right * width)]
    height, width = region.shape[:2]
    side = min(height, width)
    rng = np.random.default_rng(zlib.crc32(source.id.encode()))
    boxes = [((height - side) // 2, (width - side) // 2, side)]
    for _ in range(source.crops - 1):
        size = max(SIZE, int(side * rng.uniform(0.25, 0.8)))
        boxes.append((int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1)), size))
    result = []
    for y, x, size in boxes:
        crop = Image.fromarray(region[y : y + size, x : x + size])
        result.append(np.asarray(crop.resize((SIZE, SIZE), Image.Resampling.LANCZOS)))
    return result


def _available(source: Source) -> bool:
    try:
        source.load()
    except (ImportError, AttributeError, FileNotFoundError) as exc:
        print(f"skipping {source.id}: {exc}")
        return False
    return True


def sources_md(used: list[Source], counts: dict[str, int]) -> str:
    lines = [
        "# Natural out-of-distribution images: sources",
        "",
        "32x32 crops in `natural.npz` (arrays `images`, `names`, `sources`, `splits`), made by",
        "`scripts/make_ood_natural.py` from sample images that Python packages ship; read them with",
        '`scones.evaluation.ood_sets.load("natural", split)`. None shows a bicycle, motorcycle or any',
        "other vehicle (checked by eye on a contact sheet; photos with a vehicle in one part are cropped",
        "only from the other part). A source is wholly `guide` (may guide choices) or wholly `report`",
        "(report only).",
        "",
        "| source | shows | package and path | licence | split | crops |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for source in used:
        cells = (source.id, source.what, source.package, source.licence, source.split, str(counts[source.id]))
        lines.append(f"| {' | '.join(cells)} |")
    totals = {split: sum(counts[s.id] for s in used if s.split == split) for split in ("guide", "report")}
    lines += [
        "",
        f"{len(used)} sources: {sum(s.split == 'guide' for s in used)} guide ({totals['guide']} crops), "
        f"{sum(s.split == 'report' for s in used)} report ({totals['report']} crops).",
        "",
    ]
    return "\n".join(lines)


def contact_sheet(images: list[np.ndarray], names: list[str], path: Path, scale: int = 3) -> None:
    from PIL import ImageDraw

    columns = 16
    cell = SIZE * scale + 4
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * cell, rows * (cell + 10)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (image, name) in enumerate(zip(images, names, strict=True)):
        x, y = (index % columns) * cell, (index // columns) * (cell + 10)
        sheet.paste(Image.fromarray(image).resize((SIZE * scale, SIZE * scale), Image.Resampling.NEAREST), (x, y))
        draw.text((x, y + SIZE * scale), name[:16], fill="black")
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--sheet", type=Path, help="also write a contact sheet of every crop here")
    parser.add_argument("--extra-site", type=Path, action="append", default=[], help="site-packages with scipy 1.9.3")
    args = parser.parse_args()
    EXTRA_SITE.extend(args.extra_site)
    used = [source for source in SOURCES if _available(source)]
    images, names, sources, splits, counts = [], [], [], [], {}
    for source in used:
        cut = crops(source)
        counts[source.id] = len(cut)
        for index, crop in enumerate(cut):
            images.append(crop)
            names.append(f"{source.id}-{index:02d}")
            sources.append(source.id)
            splits.append(source.split)
    args.out.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        images=np.stack(images),
        names=np.array(names),
        sources=np.array(sources),
        splits=np.array(splits),
    )
    (args.out / "natural.npz").write_bytes(buffer.getvalue())
    (args.out / "SOURCES.md").write_text(sources_md(used, counts))
    if args.sheet:
        contact_sheet(images, names, args.sheet)
    print(f"wrote {len(images)} crops of {len(used)} sources to {args.out}")


if __name__ == "__main__":
    main()
