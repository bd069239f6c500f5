#!/usr/bin/env bash
# The 日通报 chart is drawn with a CJK font (the .docx bulletin leaves it out without one).
# Install WenQuanYi Micro Hei when no Chinese font is there; without root, sudo or apt-get,
# say so and carry on.
set -euo pipefail
if command -v fc-list >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; fi
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && exit 0

warn() { echo "ensure-fonts: $*; bulletins will go out without their chart." >&2; exit 0; }
command -v apt-get >/dev/null || warn "no Chinese font and no apt-get (install a CJK font, e.g. WenQuanYi Micro Hei)"
if [ "$(id -u)" -eq 0 ]; then as_root() { "$@"; }
elif command -v sudo >/dev/null; then as_root() { sudo "$@"; }
else warn "no Chinese font, and installing fonts-wqy-microhei needs root or sudo"
fi
echo "Installing a Chinese font for the bulletin charts: fonts-wqy-microhei" >&2
as_root apt-get update -qq >&2 || warn "apt-get update failed"
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq fonts-wqy-microhei >&2 \
    || warn "installing fonts-wqy-microhei failed"
