"""Code: editor and terminal screenshots with secrets (dev, manifest version 1) and the widened IDE themes."""

from __future__ import annotations

import random

from bench.corpus import (DEV, SECRET_KINDS, SECRET_KINDS_WIDE, TEST, Page, Scene, _rand, email_for, font, pem_lines,
                          person, secret, secret_wide)

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




# --------------------------------------------------------------------------------------------- widened

_ENV_VARS = {"aws_key": "AWS_ACCESS_KEY_ID", "aws_secret": "AWS_SECRET_ACCESS_KEY", "github": "GITHUB_TOKEN",
             "github_pat": "GH_PAT", "github_oauth": "GH_OAUTH_TOKEN", "gitlab": "GITLAB_TOKEN", "npm": "NPM_TOKEN",
             "sendgrid": "SENDGRID_API_KEY", "slack": "SLACK_BOT_TOKEN", "stripe": "STRIPE_SECRET_KEY",
             "openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "google": "GOOGLE_MAPS_KEY",
             "jwt": "SESSION_JWT", "jwt_claims": "ADMIN_JWT", "postgres": "DATABASE_URL", "db_url": "BROKER_URL"}
_PLACEHOLDERS = ["changeme", "<your-token-here>", "${VAULT_SECRET}", "xxxxxxxx", "REPLACE_ME", "\"\"",
                 "dummy-value-for-tests", "sk_test_placeholder"]

_IDE_THEMES = {  # name: (editor, sidebar, activity, text, keyword, string, comment, line numbers, accent)
    "dark-plus": ((30, 30, 30), (37, 37, 38), (51, 51, 51), (212, 212, 212), (86, 156, 214), (206, 145, 120),
                  (106, 153, 85), (133, 133, 133), (0, 122, 204)),
    "monokai": ((39, 40, 34), (30, 31, 28), (50, 51, 45), (248, 248, 242), (249, 38, 114), (230, 219, 116),
                (117, 113, 94), (144, 144, 138), (166, 226, 46)),
    "dracula": ((40, 42, 54), (33, 34, 44), (52, 55, 70), (248, 248, 242), (255, 121, 198), (241, 250, 140),
                (98, 114, 164), (98, 114, 164), (189, 147, 249)),
    "one-dark": ((40, 44, 52), (33, 37, 43), (52, 57, 66), (171, 178, 191), (198, 120, 221), (152, 195, 121),
                 (92, 99, 112), (99, 109, 131), (97, 175, 239)),
}


def _env_lines(rng: random.Random, clean: bool, kit) -> list[list[tuple[str, str, str | None]]]:
    """Lines of (text, role, entity) for a .env / config file with secrets (or placeholders when clean)."""
    kinds = list(dict.fromkeys(rng.sample(SECRET_KINDS_WIDE, k=rng.randint(3, 6))))
    if "aws_secret" in kinds and "aws_key" not in kinds:
        kinds.insert(kinds.index("aws_secret"), "aws_key")
    lines: list[list[tuple[str, str, str | None]]] = [[("# production settings - do not commit", "com", None)], []]
    for k in kinds:
        var = _ENV_VARS[k]
        if clean:
            lines.append([(var, "key", None), ("=", "text", None), (rng.choice(_PLACEHOLDERS), "str", None)])
        else:
            lines.append([(var, "key", None), ("=", "text", None), (secret_wide(rng, k), "str", "SECRET")])
    lines += [[], [("LOG_LEVEL", "key", None), ("=", "text", None), ("info", "str", None)],
              [("FEATURE_FLAGS", "key", None), ("=", "text", None), ("beta-ui,new-checkout", "str", None)]]
    if not clean and rng.random() < 0.5:
        first, last = kit.person(rng)
        lines.insert(1, [("# owner: ", "com", None), (f"{first} {last}", "com", "PERSON"), (" <", "com", None),
                         (kit.email(rng, first, last), "com", "EMAIL_ADDRESS"), (">", "com", None)])
    return lines


def ide_dark(rng: random.Random, clean: bool) -> Scene:
    """A dark IDE: activity bar, file tree, tabs, line numbers, a .env file with keys, status bar."""
    theme = rng.choice(list(_IDE_THEMES))
    editor, side, act, text, kw, st, com, num, accent = _IDE_THEMES[theme]
    f = DEV.pair_xh("mono", rng.uniform(7, 11), rng)[0]
    ui = DEV.font("sans", max(11, int(f.size * 0.9)), rng)
    lh = int(f.size * 1.5)
    lines = _env_lines(rng, clean, DEV)
    colors = {"com": com, "key": kw, "text": text, "str": st}
    side_w, act_w = 230, 48
    x_code = act_w + side_w + int(f.getlength("000")) + 30
    w = max(1280, x_code + int(max(f.getlength("".join(t for t, _, _ in ln)) for ln in lines if ln)) + 60)
    h = max(720, 110 + lh * (len(lines) + 4))
    p = Page(w, h, editor)
    p.draw.rectangle([0, 0, act_w, h], fill=act)
    p.draw.rectangle([act_w, 0, act_w + side_w, h], fill=side)
    p.text((act_w + 16, 12), "EXPLORER", ui, num)
    for i, name in enumerate(["src", "  app.py", "  settings.py", ".env", ".env.example", "docker-compose.yml",
                              "README.md"]):
        p.text((act_w + 16, 44 + i * int(ui.size * 1.9)), name, ui, text if name != ".env" else accent)
    p.draw.rectangle([act_w + side_w, 0, w, 36], fill=side)
    p.draw.rectangle([act_w + side_w, 0, act_w + side_w + 120, 36], fill=editor)
    p.text((act_w + side_w + 16, 10), ".env", ui, text)
    p.text((act_w + side_w + 140, 10), "settings.py", ui, num)
    y = 56
    for i, ln in enumerate(lines):
        p.text((act_w + side_w + 12, y), f"{i + 1:>3}", f, num)
        x = x_code
        for t, role, ent in ln:
            p.text((x, y), t, f, colors[role], ent)
            x += p.draw.textlength(t, font=f)
        y += lh
    p.draw.rectangle([0, h - 26, w, h], fill=accent)
    p.text((12, h - 22), f"main  Ln {rng.randint(1, len(lines))}, Col 1  UTF-8  dotenv", ui, (255, 255, 255))
    return p.scene(f"ide-{theme}")


_LIGHT_THEMES = {  # name: (editor, gutter, panel, text, key, string, comment, numbers, accent)
    "github-light": ((255, 255, 255), (246, 248, 250), (246, 248, 250), (36, 41, 47), (207, 34, 46), (10, 48, 105),
                     (110, 119, 129), (140, 149, 159), (9, 105, 218)),
    "solarized-light": ((253, 246, 227), (238, 232, 213), (238, 232, 213), (88, 110, 117), (38, 139, 210),
                        (42, 161, 152), (147, 161, 161), (147, 161, 161), (203, 75, 22)),
    "intellij-light": ((255, 255, 255), (240, 240, 240), (247, 248, 250), (8, 8, 8), (0, 51, 179), (6, 125, 23),
                       (140, 140, 140), (153, 153, 153), (53, 116, 240)),
}


def _yaml_lines(rng: random.Random, clean: bool) -> list[list[tuple[str, str, str | None]]]:
    kinds = list(dict.fromkeys(rng.sample(SECRET_KINDS_WIDE, k=rng.randint(3, 5))))
    lines: list[list[tuple[str, str, str | None]]] = [[("# values-prod.yaml", "com", None)],
                                                      [("app:", "key", None)],
                                                      [("  replicas: ", "key", None), (str(rng.randint(2, 12)), "text", None)],
                                                      [("  secrets:", "key", None)]]
    for k in kinds:
        name = _ENV_VARS[k].lower().replace("_", "-")
        value = rng.choice(_PLACEHOLDERS) if clean else secret_wide(rng, k)
        lines.append([(f"    {name}: ", "key", None), ('"', "str", None), (value, "str", None if clean else "SECRET"),
                      ('"', "str", None)])
    if not clean and rng.random() < 0.6:
        first, last = TEST.person(rng)
        lines += [[("  oncall:", "key", None)], [("    name: ", "key", None), (f"{first} {last}", "str", "PERSON")],
                  [("    email: ", "key", None), (TEST.email(rng, first, last), "str", "EMAIL_ADDRESS")],
                  [("    phone: ", "key", None), (TEST.phone(rng), "str", "PHONE_NUMBER")]]
    lines += [[("  resources:", "key", None)], [("    cpu: ", "key", None), ("500m", "text", None)],
              [("    memory: ", "key", None), ("512Mi", "text", None)]]
    return lines


def ide_light(rng: random.Random, clean: bool) -> Scene:
    """A light IDE: project tree with folder icons, breadcrumbs, a YAML file, a Problems panel below."""
    theme = rng.choice(list(_LIGHT_THEMES))
    editor, gutter, panel, text, key, st, com, num, accent = _LIGHT_THEMES[theme]
    f = TEST.pair_xh("mono", rng.uniform(7, 11), rng)[0]
    ui, uib = TEST.pair(rng.choice(["sans", "condensed"]), max(11, int(f.size * 0.95)), rng)
    lh = int(f.size * 1.55)
    lines = _yaml_lines(rng, clean)
    colors = {"com": com, "key": key, "text": text, "str": st}
    tree_w = 260
    x_code = tree_w + int(f.getlength("000")) + 34
    w = max(1300, x_code + int(max(f.getlength("".join(t for t, _, _ in ln)) for ln in lines)) + 60)
    panel_h = 150
    h = 90 + lh * (len(lines) + 2) + panel_h
    p = Page(w, h, editor)
    p.draw.rectangle([0, 0, w, 34], fill=panel)
    p.text((14, 9), f"{rng.choice(['deploy', 'infra', 'platform'])} - helm/values-prod.yaml", uib, text)
    p.draw.rectangle([0, 34, tree_w, h], fill=panel)
    for i, name in enumerate(["helm", "charts", "templates", "values.yaml", "values-prod.yaml", "Makefile"]):
        yy = 48 + i * int(ui.size * 2)
        p.draw.rectangle([14 + 10 * min(i, 2), yy + 2, 26 + 10 * min(i, 2), yy + ui.size], fill=accent)
        p.text((32 + 10 * min(i, 2), yy), name, ui, text)
    p.text((tree_w + 14, 42), "helm  >  values-prod.yaml  >  app  >  secrets", ui, num)
    p.draw.rectangle([tree_w, 66, x_code - 14, h - panel_h], fill=gutter)
    y = 72
    for i, ln in enumerate(lines):
        p.text((tree_w + 8, y), f"{i + 1:>3}", f, num)
        x = x_code
        for t, role, ent in ln:
            p.text((x, y), t, f, colors[role], ent)
            x += p.draw.textlength(t, font=f)
        y += lh
    p.draw.rectangle([0, h - panel_h, w, h], fill=panel)
    p.text((14, h - panel_h + 10), "Problems   Terminal   Git", uib, text)
    p.text((14, h - panel_h + 44), rng.choice(["No problems found", "1 warning: key order", "YAML: 0 errors"]), ui, num)
    return p.scene(f"ide-{theme}")


_TMUX_THEMES = {  # name: (background, text, prompt, accent, status bar, status text)
    "nord": ((46, 52, 64), (216, 222, 233), (163, 190, 140), (136, 192, 208), (59, 66, 82), (236, 239, 244)),
    "tomorrow-night": ((29, 31, 33), (197, 200, 198), (181, 189, 104), (129, 162, 190), (40, 42, 46),
                       (197, 200, 198)),
    "gruvbox-dark": ((40, 40, 40), (235, 219, 178), (184, 187, 38), (131, 165, 152), (80, 73, 69), (251, 241, 199)),
}


def terminal_split(rng: random.Random, clean: bool) -> Scene:
    """A tmux window in two panes: shell history with tokens on the left, a service's output on the right."""
    theme = rng.choice(list(_TMUX_THEMES))
    bg, text, prompt, accent, bar, bar_ink = _TMUX_THEMES[theme]
    f = TEST.pair_xh("mono", rng.uniform(6.5, 10), rng)[0]
    lh = int(f.size * 1.45)
    left: list[list[tuple[str, tuple, str | None]]] = []
    for k in rng.sample(["github_pat", "github", "aws_secret", "jwt", "jwt_claims", "db_url", "gitlab", "npm",
                         "sendgrid", "stripe"], k=rng.randint(3, 5)):
        v = rng.choice(_PLACEHOLDERS) if clean else secret_wide(rng, k)
        ent = None if clean else "SECRET"
        if k in ("jwt", "jwt_claims"):
            left.append([("$ ", prompt, None), ('curl -sH "Authorization: Bearer ', text, None), (v, text, ent),
                         ('" https://api.internal/v1/me', text, None)])
        elif k in ("github_pat", "github") and not clean:
            left.append([("$ ", prompt, None), ("git remote set-url origin https://x-access-token:", text, None),
                         (v, text, ent), ("@github.com/acme/infra.git", text, None)])
        elif k == "db_url":
            left.append([("$ ", prompt, None), ("psql ", text, None), (v, text, ent)])
        else:
            left.append([("$ ", prompt, None), (f"export {_ENV_VARS[k]}=", text, None), (v, text, ent)])
        left.append([(rng.choice(["", "ok", "200 OK", "done."]), accent, None)])
    right: list[list[tuple[str, tuple, str | None]]] = [[("$ ", prompt, None), ("docker logs -f mailer", text, None)]]
    for _ in range(rng.randint(8, 14)):
        if clean or rng.random() < 0.3:
            right.append([(f"queue depth {rng.randint(0, 90)} workers {rng.randint(1, 8)}", text, None)])
        else:
            first, last = TEST.person(rng)
            right.append([("sent to=", text, None), (TEST.email(rng, first, last), accent, "EMAIL_ADDRESS"),
                          (f" id={_rand(rng, '0123456789abcdef', 10)}", text, None)])
    lw = int(max(f.getlength("".join(t for t, _, _ in ln)) for ln in left if ln)) + 40
    rw = int(max(f.getlength("".join(t for t, _, _ in ln)) for ln in right)) + 40
    h = 30 + lh * (max(len(left), len(right)) + 2) + 30
    p = Page(lw + rw + 6, h, bg)
    p.draw.line([lw + 2, 0, lw + 2, h - 26], fill=accent, width=2)
    for x0, lines in ((16, left), (lw + 22, right)):
        y = 16
        for ln in lines:
            x = x0
            for t, col, ent in ln:
                if t:
                    p.text((x, y), t, f, col, ent)
                    x += p.draw.textlength(t, font=f)
            y += lh
    p.draw.rectangle([0, h - 26, p.img.width, h], fill=bar)
    p.text((10, h - 22), f"[{rng.choice(['ops', 'dev', 'prod'])}] 0:zsh* 1:vim  \"bastion\" {rng.randint(10, 23)}:{rng.randint(10, 59)}",
           f, bar_ink)
    return p.scene(f"tmux-{theme}")
