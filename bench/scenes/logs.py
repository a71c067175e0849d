"""Logs: a dark log viewer (dev); `tail -f` of JSON and access logs and a light cloud log console (test).

Addresses are drawn where a person sees them: `user=name@domain` runs on, IPv4 and IPv6 in their own colour.
Every IP and e-mail drawn is labelled; clean look-alikes carry host names, request ids and masked fields only.
"""

from __future__ import annotations

import random

from bench.corpus import (DEV, TEST, Page, Scene, _rand, _rgb_jitter, ink_for, ipv4_public, ipv6_global,
                          window_chrome)

Run = tuple[str, tuple[int, int, int], str | None]  # text, colour, entity

_HEX = "0123456789abcdef"


def _ts(rng: random.Random, i: int) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{8 + i // 60 % 12:02d}:{i % 60:02d}:" \
           f"{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"


def _ip(rng: random.Random) -> str:
    return ipv6_global(rng) if rng.random() < 0.4 else ipv4_public(rng)


def _viewer_line(rng: random.Random, i: int, clean: bool, pal: dict) -> list[Run]:
    level, lcol = rng.choice([("INFO ", pal["info"]), ("INFO ", pal["info"]), ("WARN ", pal["warn"]),
                              ("ERROR", pal["err"]), ("DEBUG", pal["dim"])])
    svc = rng.choice(["auth", "api-gw", "billing", "sshd", "mailer", "vpn"])
    head: list[Run] = [(_ts(rng, i), pal["dim"], None), ("  ", pal["text"], None), (level, lcol, None),
                       (f"  {svc:<8}", pal["svc"], None)]
    rid = f"req={_rand(rng, _HEX, 8)}"
    if clean:
        return head + [(rng.choice([f"GET /v1/orders/{rng.randint(1000, 99999)} 200 {rng.randint(3, 900)}ms ",
                                    "login ok user=<redacted> src=[masked] ", f"cache miss key=sku:{rng.randint(1, 9999)} ",
                                    "tls handshake ok host=api.internal.lan ", f"deploy v2.{rng.randint(0, 40)}.{rng.randint(0, 9)} done ",
                                    f"retry {rng.randint(1, 5)}/5 upstream=orders.svc.cluster.local "]), pal["text"], None),
                       (rid, pal["dim"], None)]
    first, last = DEV.person(rng)
    kind = rng.choice(["login", "login", "ssh", "rate", "mail", "vpn"])
    if kind == "login":
        return head + [("login ok user=", pal["text"], None), (DEV.email(rng, first, last), pal["text"], "EMAIL_ADDRESS"),
                       (" src=", pal["text"], None), (_ip(rng), pal["ip"], "IP_ADDRESS"), (f" {rid}", pal["dim"], None)]
    if kind == "ssh":
        return head + [("Accepted publickey for deploy from ", pal["text"], None), (_ip(rng), pal["ip"], "IP_ADDRESS"),
                       (f" port {rng.randint(1025, 65000)} ssh2", pal["text"], None)]
    if kind == "rate":
        return head + [("rate limit exceeded client=", pal["text"], None), (_ip(rng), pal["ip"], "IP_ADDRESS"),
                       (f" path=/v1/export quota={rng.randint(100, 999)}", pal["text"], None)]
    if kind == "mail":
        return head + [("bounce to=", pal["text"], None), (DEV.email(rng, first, last), pal["text"], "EMAIL_ADDRESS"),
                       (" relay=", pal["text"], None), (ipv4_public(rng), pal["ip"], "IP_ADDRESS"),
                       (" status=5.1.1", pal["text"], None)]
    return head + [("tunnel up peer=", pal["text"], None), (_ip(rng), pal["ip"], "IP_ADDRESS"),
                   (" user=", pal["text"], None), (DEV.email(rng, first, last), pal["text"], "EMAIL_ADDRESS")]


_VIEWER_PALETTES = {
    "log-dark": {"bg": (16, 17, 20), "text": (200, 200, 200), "dim": (120, 124, 130), "ip": (97, 165, 250),
                 "info": (80, 200, 120), "warn": (230, 190, 80), "err": (240, 90, 90), "svc": (190, 150, 230)},
    "log-dark-lowcontrast": {"bg": (28, 30, 34), "text": (128, 132, 138), "dim": (92, 96, 102),
                             "ip": (88, 120, 170), "info": (80, 130, 100), "warn": (140, 125, 80),
                             "err": (150, 90, 90), "svc": (125, 110, 150)},
    "log-navy": {"bg": (10, 20, 40), "text": (210, 220, 230), "dim": (110, 130, 160), "ip": (120, 190, 255),
                 "info": (110, 220, 170), "warn": (250, 200, 100), "err": (255, 110, 110), "svc": (160, 170, 255)},
}


def log_viewer(rng: random.Random, clean: bool) -> Scene:
    """A log viewer window: light grey monospace on near-black, addresses in blue, 30-45 dense lines."""
    theme = rng.choice(list(_VIEWER_PALETTES))
    pal = _VIEWER_PALETTES[theme]
    f = DEV.pair_xh("mono", rng.uniform(6, 9.5), rng)[0]
    lh = int(f.size * rng.uniform(1.3, 1.6))
    lines = [_viewer_line(rng, i, clean or rng.random() < 0.35, pal) for i in range(rng.randint(24, 36))]
    if not clean and not any(ent for ln in lines for _, _, ent in ln):
        lines[0] = _viewer_line(rng, 0, False, pal)
    w = int(max(f.getlength("".join(t for t, _, _ in ln)) for ln in lines)) + 80
    h = 110 + lh * len(lines) + 40
    p = Page(w, h, pal["bg"])
    window_chrome(p, (0, 0, w, h), rng.choice(["mac", "gnome"]), rng.choice(["Logs - production", "journal", "Log Explorer"]),
                  DEV.font("sans", 14, rng), _rgb_jitter(rng, pal["bg"], 6), pal["dim"])
    p.draw.rectangle([0, 40, w, 78], fill=tuple(min(255, c + 10) for c in pal["bg"]))
    p.text((20, 50), 'service:* AND level:(INFO OR WARN OR ERROR)  last 15 minutes', DEV.font("mono", 14, rng), pal["dim"])
    y = 96
    for ln in lines:
        x = 24
        for text, col, ent in ln:
            p.text((x, y), text, f, col, ent)
            x += p.draw.textlength(text, font=f)
        y += lh
    return p.scene(theme)


_TAIL_PALETTES = {
    "solarized-dark": {"bg": (0, 43, 54), "text": (131, 148, 150), "key": (38, 139, 210), "str": (133, 153, 0),
                       "num": (211, 54, 130), "prompt": (181, 137, 0)},
    "gruvbox-dark": {"bg": (40, 40, 40), "text": (235, 219, 178), "key": (131, 165, 152), "str": (184, 187, 38),
                     "num": (211, 134, 155), "prompt": (250, 189, 47)},
    "green-on-black": {"bg": (4, 8, 4), "text": (90, 220, 110), "key": (90, 220, 110), "str": (150, 240, 160),
                       "num": (90, 220, 110), "prompt": (200, 255, 200)},
}


def _json_line(rng: random.Random, clean: bool, pal: dict) -> list[Run]:
    first, last = TEST.person(rng)
    runs: list[Run] = [("{", pal["text"], None)]
    fields: list[tuple[str, str, str | None]] = [
        ("ts", f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", None),
        ("level", rng.choice(["info", "warn", "error"]), None)]
    if clean:
        fields += [("msg", rng.choice(["cache warm", "job done", "healthcheck ok", "config reloaded"]), None),
                   ("trace", _rand(rng, _HEX, 16), None)]
    else:
        fields += [("msg", rng.choice(["login", "password reset", "payment declined", "new device"]), None),
                   ("user", TEST.email(rng, first, last), "EMAIL_ADDRESS"), ("client_ip", _ip(rng), "IP_ADDRESS")]
    for k, (key, val, ent) in enumerate(fields):
        runs += [(f'"{key}":', pal["key"], None), ('"', pal["str"], None), (val, pal["str"], ent),
                 ('"' + ("," if k < len(fields) - 1 else ""), pal["str"], None)]
    return runs + [("}", pal["text"], None)]


def _access_line(rng: random.Random, clean: bool, pal: dict) -> list[Run]:
    when = f"[{rng.randint(1, 28):02d}/Mar/2026:{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} +0000]"
    path = rng.choice(["/api/v2/session", "/login", "/static/app.js", "/api/v2/orders?page=2", "/healthz"])
    tail = f' "GET {path} HTTP/1.1" {rng.choice([200, 200, 301, 404, 500])} {rng.randint(100, 90000)}'
    if clean:
        return [("- - - ", pal["text"], None), (when, pal["num"], None), (tail, pal["text"], None)]
    return [(_ip(rng), pal["key"], "IP_ADDRESS"), (" - - ", pal["text"], None), (when, pal["num"], None),
            (tail, pal["text"], None)]


def log_tail(rng: random.Random, clean: bool) -> Scene:
    """A terminal following logs: `kubectl logs -f` JSON lines or an nginx access log, 25-40 lines."""
    theme = rng.choice(list(_TAIL_PALETTES))
    pal = _TAIL_PALETTES[theme]
    f = TEST.pair_xh("mono", rng.uniform(6, 10), rng)[0]
    lh = int(f.size * rng.uniform(1.25, 1.5))
    access = rng.random() < 0.4
    cmd = "tail -f /var/log/nginx/access.log" if access else f"kubectl logs -f deploy/{rng.choice(['auth', 'web', 'api'])} -n prod"
    make = _access_line if access else _json_line
    lines = [make(rng, clean or rng.random() < 0.4, pal) for _ in range(rng.randint(18, 30))]
    if not clean and not any(ent for ln in lines for _, _, ent in ln):
        lines[-1] = make(rng, False, pal)
    w = int(max(f.getlength("".join(t for t, _, _ in ln)) for ln in lines)) + 60
    p = Page(w, 80 + lh * (len(lines) + 2), pal["bg"])
    p.draw.rectangle([0, 0, w, 28], fill=_rgb_jitter(rng, pal["bg"], 8))
    p.text((12, 7), f"ops@bastion-{rng.randint(1, 9)}: ~", TEST.font("sans", 13, rng), pal["text"])
    y = 44
    x = p.line(16, y, [("$ ", None)], f, pal["prompt"])
    p.line(x, y, [(cmd, None)], f, pal["text"])
    for ln in lines:
        y += lh
        x = 16
        for text, col, ent in ln:
            p.text((x, y), text, f, col, ent)
            x += p.draw.textlength(text, font=f)
    return p.scene(theme)


def log_console(rng: random.Random, clean: bool) -> Scene:
    """A cloud log console in a browser: white page, severity icons, expanded entry with its payload fields."""
    bg = (255, 255, 255)
    f, fb = TEST.pair_xh("sans", rng.uniform(7, 10), rng)
    mono = TEST.font("mono", f.size, rng)
    ink, dim = ink_for(rng, bg, (7, 12)), ink_for(rng, bg, (3.2, 4.5))
    lh = int(f.size * 2.0)
    n = rng.randint(16, 26)
    w, h = 1500, 170 + lh * (n + 8)
    p = Page(w, h, bg)
    p.draw.rectangle([0, 0, w, 56], fill=(26, 115, 232))
    p.text((24, 16), "Logs Explorer", TEST.font("sans", 20, rng, bold=True), (255, 255, 255))
    p.draw.rectangle([0, 56, w, 100], fill=(241, 243, 244))
    p.text((24, 68), 'resource.type="gce_instance" severity>=INFO', mono, dim)
    y = 116
    expanded = rng.randint(2, n - 3)
    for i in range(n):
        sev = rng.choice([(66, 133, 244), (66, 133, 244), (251, 188, 4), (234, 67, 53)])
        p.draw.ellipse([24, y + 3, 24 + f.size, y + 3 + f.size], fill=sev)
        p.text((24 + f.size + 12, y), f"2026-03-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
               f"{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}", mono, dim)
        x = 24 + f.size + 12 + int(mono.getlength("2026-03-01 00:00:00.000")) + 24
        row_clean = clean or rng.random() < 0.4
        if row_clean:
            p.text((x, y), rng.choice(["Instance started", "Health check passed", "Metadata updated",
                                       f"Autoscaler: {rng.randint(2, 9)} replicas"]), f, ink)
        else:
            first, last = TEST.person(rng)
            x = p.line(x, y, [("Failed password for ", None)], f, ink)
            x = p.line(x, y, [(TEST.email(rng, first, last), "EMAIL_ADDRESS")], f, ink)
            x = p.line(x, y, [(" from ", None)], f, ink)
            p.line(x, y, [(_ip(rng), "IP_ADDRESS")], f, (26, 115, 232))
        y += lh
        if i == expanded:
            p.draw.rectangle([60, y - 4, w - 40, y + lh * 4], fill=(248, 249, 250), outline=(218, 220, 224))
            entries = [("insertId", _rand(rng, _HEX, 14), None), ("logName", "projects/web-prod/logs/auth", None)]
            if not clean:
                first, last = TEST.person(rng)
                entries += [("principalEmail", TEST.email(rng, first, last), "EMAIL_ADDRESS"),
                            ("callerIp", _ip(rng), "IP_ADDRESS")]
            else:
                entries += [("principalEmail", "service-account@system", None), ("callerIp", "private", None)]
            for k, v, ent in entries:
                p.text((80, y), f"{k}:", fb, dim)
                p.text((80 + int(fb.getlength("principalEmail:")) + 16, y), v, mono, ink, ent)
                y += lh
            y += lh // 2
    p.crop(h=y + 30)
    return p.scene("console-light")
