#!/usr/bin/env python3
"""Draws the phone screenshots tests/ocr.rs reads, into tests/ocr/images/ (committed).

Each error dialog quotes a seed (../shared/seeds/) word for word, over an app screen that
also shows a balance, amounts, menu items and a tab bar, so the tests check that the
background decides neither the answer nor the amount. Light and dark; degraded copies
(half size, JPEG q50, blurred like a photo of a screen, WebP); an app screen with no
dialog and an unrelated dialog, which must stay silent; and a decompression bomb.

Needs Pillow (pip install pillow) and a Japanese font (Debian: fonts-ipafont-gothic):
    python3 tests/ocr/make_images.py
Output is deterministic for a given Pillow and font.
"""
import os
import sys
import zlib
import struct

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "images")
FONT_PATHS = [
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
]
W, H = 750, 1334

# (file stem, app name, title, message lines as the app wraps them, button)
DIALOGS = [
    (
        "mw1m01aj0004",
        "ANA Pay",
        "処理に失敗しました",
        ["本人認証に不正が検知しました。", "(MW1M01AJ0004)", "お手数ですが、しばらく経ってから",
         "再度お試しください。"],
        "OK",
    ),
    (
        "session_timeout",
        "JAL Pay",
        "エラー",
        ["セッションタイムアウトが発生しました。", "もしくは、ブラウザのクッキー設定が",
         "オフである可能性もあります"],
        "閉じる",
    ),
    (
        "attempt_limit",
        "JAL Pay",
        "クレジットカード登録エラー",
        ["クレジットカード登録エラー回数制限に", "達しました。24時間後に再度お試しください。"],
        "OK",
    ),
    # Not in the pack: must stay silent in a support channel.
    (
        "unrelated_dialog",
        "JAL Pay",
        "お知らせ",
        ["アプリの新しいバージョンが", "ご利用いただけます。", "ストアから更新してください。"],
        "更新する",
    ),
]

THEMES = {
    "light": dict(bg=(242, 242, 247), card=(255, 255, 255), text=(28, 28, 30), sub=(99, 99, 102),
                  accent=(0, 122, 255), dim=(0, 0, 0, 110), dialog=(255, 255, 255)),
    "dark": dict(bg=(0, 0, 0), card=(28, 28, 30), text=(235, 235, 245), sub=(152, 152, 157),
                 accent=(10, 132, 255), dim=(0, 0, 0, 140), dialog=(44, 44, 46)),
}


def font(size):
    for p in FONT_PATHS:
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    sys.exit("no Japanese font: apt-get install fonts-ipafont-gothic")


def app_screen(theme, app):
    """An app home screen: status bar, balance, amounts, menu, a banner, a tab bar."""
    t = THEMES[theme]
    im = Image.new("RGB", (W, H), t["bg"])
    d = ImageDraw.Draw(im)
    d.text((40, 18), "9:41", fill=t["text"], font=font(28))
    d.text((620, 18), "87%", fill=t["text"], font=font(26))
    d.text((40, 90), app, fill=t["text"], font=font(44))
    d.rounded_rectangle((30, 170, 720, 400), 24, fill=t["card"])
    d.text((60, 195), "残高", fill=t["sub"], font=font(30))
    d.text((60, 245), "¥12,345", fill=t["text"], font=font(72))
    d.text((60, 345), "ポイント 3,210 pt", fill=t["sub"], font=font(28))
    d.rounded_rectangle((30, 420, 720, 500), 20, fill=t["card"])
    d.text((60, 442), "最大5,000円分プレゼント実施中", fill=t["text"], font=font(30))
    for i, label in enumerate(["チャージ", "送金", "支払う", "履歴"]):
        x = 50 + i * 170
        d.rounded_rectangle((x, 530, x + 140, 630), 20, fill=t["card"])
        d.text((x + 70, 580), label, fill=t["accent"], font=font(28), anchor="mm")
    rows = [("セブン-イレブン", "-1,280円"), ("ANA Payチャージ", "+30,000円"),
            ("ローソン", "-540円")]
    for i, (shop, amount) in enumerate(rows):
        y = 900 + i * 105
        d.rounded_rectangle((30, y, 720, y + 95), 16, fill=t["card"])
        d.text((60, y + 30), shop, fill=t["text"], font=font(30))
        d.text((690, y + 30), amount, fill=t["text"], font=font(30), anchor="ra")
    d.rectangle((0, 1220, W, H), fill=t["card"])
    for i, label in enumerate(["ホーム", "ウォレット", "お知らせ", "設定"]):
        d.text((94 + i * 187, 1270), label, fill=t["sub"], font=font(24), anchor="mm")
    return im


def with_dialog(im, theme, title, lines, button):
    t = THEMES[theme]
    overlay = Image.new("RGBA", im.size, t["dim"])
    im = Image.alpha_composite(im.convert("RGBA"), overlay)
    d = ImageDraw.Draw(im)
    top = 520
    height = 130 + 44 * len(lines) + 90
    d.rounded_rectangle((75, top, 675, top + height), 28, fill=t["dialog"])
    d.text((375, top + 60), title, fill=t["text"], font=font(36), anchor="mm")
    for i, line in enumerate(lines):
        d.text((375, top + 120 + 44 * i), line, fill=t["text"], font=font(28), anchor="mm")
    d.line((75, top + height - 85, 675, top + height - 85), fill=t["sub"], width=1)
    d.text((375, top + height - 42), button, fill=t["accent"], font=font(34), anchor="mm")
    return im.convert("RGB")


def bomb(path):
    """A 1-bit PNG of 30,000 × 30,000 pixels (900 Mpx, 2.7 GB as RGB) whose zlib stream is small: the header
    tells the truth, so only a check of the header before decoding stops it."""
    w = h = 30_000
    row = b"\x00" + b"\x00" * (w // 8)
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(h)) + z.flush()

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
           + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def main():
    os.makedirs(OUT, exist_ok=True)
    for stem, app, title, lines, button in DIALOGS:
        for theme in THEMES:
            im = with_dialog(app_screen(theme, app), theme, title, lines, button)
            im.save(os.path.join(OUT, f"{stem}_{theme}.png"), optimize=True)
            if stem != "unrelated_dialog" and theme == "light":
                small = im.resize((W // 2, H // 2), Image.LANCZOS)
                small.save(os.path.join(OUT, f"{stem}_small_q50.jpg"), quality=50)
            if stem != "unrelated_dialog" and theme == "dark":
                blurred = im.filter(ImageFilter.GaussianBlur(1.2))
                blurred.save(os.path.join(OUT, f"{stem}_dark_blur.jpg"), quality=70)
            if stem == "session_timeout" and theme == "light":
                im.save(os.path.join(OUT, f"{stem}_light.webp"), quality=80)
    app_screen("light", "JAL Pay").save(os.path.join(OUT, "home_light.png"), optimize=True)
    bomb(os.path.join(OUT, "bomb.png"))
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>8}  {name}")


if __name__ == "__main__":
    main()
