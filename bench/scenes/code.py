"""Code: editor and terminal screenshots with secrets (dev, manifest version 1) and the widened IDE themes."""

from __future__ import annotations

import random

from bench.corpus import SECRET_KINDS, Page, Scene, _rand, email_for, font, pem_lines, person, secret

CODE_BG = [(30, 30, 30), (40, 44, 52), (13, 17, 23), (39, 40, 34)]
SYN = {"kw": (197, 134, 192), "str": (206, 145, 120), "var": (156, 220, 254), "com": (106, 153, 85),
       "txt": (212, 212, 212), "num": (181, 206, 168), "prompt": (80, 250, 123)}

_SECRET_VARS = {"aws_key": "AWS_ACCESS_KEY_ID", "aws_secret": "AWS_SECRET_ACCESS_KEY", "github": "GITHUB_TOKEN",
                "slack": "SLACK_BOT_TOKEN", "stripe": "STRIPE_SECRET_KEY", "openai": "OPENAI_API_KEY",
                "anthropic": "ANTHROPIC_API_KEY", "google": "GOOGLE_API_KEY", "jwt": "AUTH_TOKEN",
                "postgres": "DATABASE_URL"}


def _code_lines(rng: random.Random, clean: bool, terminal: bool) -> list[list[tuple[str, str, str | None]]]:
    """Lines of (text, syntax colour, entity) runs."""
    lines: list[list[tuple[str, str, str | None]]] = []
    kinds = rng.sample(SECRET_KINDS, k=rng.randint(2, 5))
    if terminal:
        lines.append([("$ ", "prompt", None), ("git log -1", "txt", None)])
        lines.append([(f"commit {_rand(rng, '0123456789abcdef', 40)}", "num", None)])
        if clean:
            lines.append([("Author: release-bot <noreply@example.com>", "txt", None)])
        else:
            first, last = person(rng)
            lines += [[("Author: ", "txt", None), (f"{first} {last}", "txt", "PERSON"), (" <", "txt", None),
                       (email_for(rng, first, last), "txt", "EMAIL_ADDRESS"), (">", "txt", None)]]
        lines.append([(f"    Bump version to {rng.randint(1, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}", "txt", None)])
        if clean:
            lines += [[("$ ", "prompt", None), ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "txt", None)],
                      [("$ ", "prompt", None), ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "txt", None)],
                      [("$ ", "prompt", None), ('export OPENAI_API_KEY="$(pass show openai)"', "txt", None)],
                      [("$ ", "prompt", None), ("pip install torch==2.14.1 numpy==2.4.6", "txt", None)],
                      [("Successfully installed numpy-2.4.6 torch-2.14.1", "txt", None)],
                      [("$ ", "prompt", None), ("psql postgres://localhost:5432/app", "txt", None)]]
        else:
            for k in kinds:
                v = secret(rng, k)
                if k == "postgres":
                    lines.append([("$ ", "prompt", None), ("psql ", "txt", None), (v, "txt", "SECRET")])
                elif k == "jwt":
                    lines.append([("$ ", "prompt", None), ('curl -H "Authorization: Bearer ', "txt", None),
                                  (v, "txt", "SECRET"), ('" api/v1/me', "txt", None)])
                else:
                    lines.append([("$ ", "prompt", None), (f"export {_SECRET_VARS[k]}=", "txt", None),
                                  (v, "txt", "SECRET")])
            if rng.random() < 0.5:
                lines.append([("$ ", "prompt", None), ("cat ~/.ssh/id_rsa", "txt", None)])
                pem = pem_lines(rng)
                for i, ln in enumerate(pem):
                    lines.append([(ln, "txt", "PEM" if i == 0 else "PEM+")])
        lines.append([("$ ", "prompt", None), ("_", "txt", None)])
        return lines
    lines += [[("# settings.py", "com", None)], [("import ", "kw", None), ("os", "txt", None)], []]
    if clean:
        lines += [[("OPENAI_API_KEY", "var", None), (" = ", "txt", None), ('os.environ["OPENAI_API_KEY"]', "txt", None)],
                  [("AWS_ACCESS_KEY_ID", "var", None), (" = ", "txt", None), ('"AKIAIOSFODNN7EXAMPLE"', "str", None),
                   ("  # AWS docs example", "com", None)],
                  [("GITHUB_TOKEN", "var", None), (" = ", "txt", None), ('"<your-github-token>"', "str", None)],
                  [("STRIPE_KEY", "var", None), (" = ", "txt", None), ('"sk_live_" + "*" * 24', "str", None)],
                  [("BUILD_SHA", "var", None), (" = ", "txt", None), (f'"{_rand(rng, "0123456789abcdef", 40)}"', "str", None)],
                  [("REQUEST_ID", "var", None), (" = ", "txt", None), (f'"{_rand(rng, "0123456789abcdef", 8)}-4e1b-9a2c-{_rand(rng, "0123456789abcdef", 12)}"', "str", None)],
                  [("VERSION", "var", None), (" = ", "txt", None), (f'"{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"', "str", None)],
                  [("DATABASE_URL", "var", None), (" = ", "txt", None), ('"postgres://localhost:5432/dev"', "str", None)]]
    else:
        for k in kinds:
            v = secret(rng, k)
            lines.append([(_SECRET_VARS[k], "var", None), (' = "', "str", None), (v, "str", "SECRET"),
                          ('"', "str", None)])
    lines += [[], [("def ", "kw", None), ("connect", "txt", None), ("(timeout=", "txt", None), ("30", "num", None),
                                                                     ("):", "txt", None)],
              [("    return ", "kw", None), ("Client(OPENAI_API_KEY, timeout=timeout)", "txt", None)]]
    return lines


def code(rng: random.Random, clean: bool, terminal: bool) -> Scene:
    size = rng.randint(13, 20)
    f = font("mono", size, rng)
    lh = int(size * 1.45)
    lines = _code_lines(rng, clean, terminal)
    w = max(1100, int(max((f.getlength("".join(t for t, _, _ in ln)) for ln in lines if ln), default=0)) + 140)
    h = 80 + lh * (len(lines) + 2)
    bg = rng.choice(CODE_BG)
    p = Page(w, h, bg)
    p.draw.rectangle([0, 0, w, 36], fill=tuple(max(0, c - 12) for c in bg))
    for i, c in enumerate([(255, 95, 86), (255, 189, 46), (39, 201, 63)]):
        p.draw.ellipse([14 + i * 22, 11, 28 + i * 22, 25], fill=c)
    p.text((w // 2 - 60, 9), "zsh" if terminal else "settings.py", font("sans", 14), (180, 180, 180))
    y, x0 = 56, 20 if terminal else 70
    pem_box: list[float] | None = None
    pem_first = ""
    for i, ln in enumerate(lines):
        if not terminal:
            p.text((16, y), f"{i + 1:>3}", f, (110, 110, 110))
        x = x0
        for text, color, ent in ln:
            label = ent if ent in ("SECRET", "PERSON", "EMAIL_ADDRESS") else None
            box = p.text((x, y), text, f, SYN[color], label)
            if ent == "PEM":
                pem_box = list(box)
            elif ent == "PEM+" and pem_box is not None:
                pem_box = [min(pem_box[0], box[0]), pem_box[1], max(pem_box[2], box[2]), box[3]]
                pem_first = pem_first or text
            x += p.draw.textlength(text, font=f)
        y += lh
    if pem_box is not None:
        p.label("SECRET", pem_box, pem_first)  # the whole block; its first key line is the leak probe
    return p.scene("terminal-dark" if terminal else "editor-dark")


