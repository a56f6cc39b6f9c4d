"""Stand-in product photos for the browser tests, drawn as SVG (the tests run offline).

The catalog seeded for the e2e tests points at ``https://photos.framesell.test/<name>.svg``;
the browser fixture answers those requests with the pictures below, so screenshots show a
shop with pictures while every other picture URL still fails and shows the placeholder.
"""

from __future__ import annotations

PHOTO_HOST = "https://photos.framesell.test"

# name: (sky top, sky bottom, sun, far hills, near ground, scene)
_PALETTES = {
    "brooklyn-bridge": ("#1d3557", "#f4a261", "#ffd166", "#41506b", "#1b2433", "bridge"),
    "singapore-night": ("#0b1026", "#5a3d7a", "#f8f3d4", "#2a2f4f", "#111425", "skyline"),
    "scarlet-macaw": ("#0f5132", "#95d5b2", "#fff3b0", "#2d6a4f", "#1b4332", "macaw"),
    "alpine-lake": ("#3a86ff", "#caf0f8", "#ffffff", "#5c677d", "#1d3557", "lake"),
    "desert-dunes": ("#e76f51", "#f4d35e", "#fffbe6", "#d68c45", "#9c6644", "dunes"),
}


def _scene(kind: str, hills: str, ground: str) -> str:
    if kind == "bridge":
        return (
            f'<path d="M0 420 Q400 300 800 420 L800 600 L0 600 Z" fill="{hills}"/>'
            f'<rect x="170" y="170" width="46" height="300" fill="{ground}"/>'
            f'<rect x="584" y="170" width="46" height="300" fill="{ground}"/>'
            f'<path d="M0 330 Q193 120 193 175 Q400 430 607 175 Q607 120 800 330" '
            f'fill="none" stroke="{ground}" stroke-width="6"/>'
            f'<rect x="0" y="430" width="800" height="22" fill="{ground}"/>'
            f'<rect x="0" y="452" width="800" height="148" fill="#264653" opacity="0.9"/>'
        )
    if kind == "skyline":
        towers = "".join(
            f'<rect x="{x}" y="{y}" width="{w}" height="{600 - y}" fill="{ground}"/>'
            for x, y, w in [
                (20, 300, 70),
                (100, 220, 60),
                (170, 330, 90),
                (270, 160, 55),
                (335, 260, 80),
                (425, 200, 70),
                (505, 310, 60),
                (575, 140, 65),
                (650, 250, 70),
                (730, 320, 60),
            ]
        )
        windows = "".join(
            f'<rect x="{x}" y="{y}" width="6" height="9" fill="#ffd166" opacity="0.8"/>'
            for x in range(115, 760, 37)
            for y in range(340, 560, 31)
        )
        return f'<path d="M0 470 L800 430 L800 600 L0 600 Z" fill="{hills}"/>{towers}{windows}'
    if kind == "macaw":
        return (
            f'<path d="M0 600 L0 380 Q200 300 420 420 T800 360 L800 600 Z" fill="{hills}"/>'
            f'<path d="M120 470 Q420 380 760 480" stroke="#6b4226" stroke-width="18" fill="none"/>'
            '<ellipse cx="420" cy="330" rx="70" ry="110" fill="#d62828"/>'
            '<circle cx="430" cy="225" r="50" fill="#d62828"/>'
            '<path d="M460 215 Q505 230 470 265 Z" fill="#f1faee"/>'
            '<circle cx="442" cy="215" r="8" fill="#1d1d1d"/>'
            '<path d="M370 300 Q300 400 360 460 Q400 380 420 320 Z" fill="#fcbf49"/>'
            '<path d="M360 430 Q330 470 350 520 Q390 470 390 420 Z" fill="#1d4ed8"/>'
            '<path d="M400 430 L380 590 L420 590 L430 440 Z" fill="#d62828"/>'
        )
    if kind == "lake":
        return (
            f'<path d="M0 360 L150 170 L260 300 L400 120 L560 320 L660 210 L800 360 Z" '
            f'fill="{hills}"/>'
            '<path d="M360 170 L400 120 L440 170 L420 165 L400 180 L380 165 Z" fill="#fff"/>'
            f'<rect x="0" y="360" width="800" height="240" fill="{ground}"/>'
            '<path d="M0 380 L800 380" stroke="#caf0f8" stroke-width="3" opacity="0.6"/>'
            '<path d="M80 430 L300 430 M420 470 L700 470" stroke="#caf0f8" '
            'stroke-width="2" opacity="0.4"/>'
        )
    return (
        f'<path d="M0 420 Q200 300 420 400 T800 380 L800 600 L0 600 Z" fill="{hills}"/>'
        f'<path d="M0 500 Q260 400 520 490 T800 470 L800 600 L0 600 Z" fill="{ground}"/>'
    )


def photo_svg(name: str) -> str | None:
    """The SVG picture called ``name`` (without ``.svg``), or None if there is none."""
    palette = _PALETTES.get(name)
    if palette is None:
        return None
    top, bottom, sun, hills, ground, kind = palette
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600" viewBox="0 0 800 600">'
        f'<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        "</linearGradient></defs>"
        '<rect width="800" height="600" fill="url(#sky)"/>'
        f'<circle cx="640" cy="130" r="55" fill="{sun}" opacity="0.9"/>'
        f"{_scene(kind, hills, ground)}</svg>"
    )


def photo_url(name: str) -> str:
    """Where the seeded catalog says the picture ``name`` is."""
    return f"{PHOTO_HOST}/{name}.svg"
