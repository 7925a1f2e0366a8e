#!/usr/bin/env bash
# Install the system programs voice_coach needs, or say exactly how to.
#   tools/system-deps.sh run    espeak-ng (speech) and ffmpeg (encoding)
#   tools/system-deps.sh test   the same plus PulseAudio, PortAudio and Chromium for playback and browser
#                               tests, and a D-Bus daemon with playerctl for the MPRIS tests
set -euo pipefail

want=(espeak-ng ffmpeg)
if [[ "${1:-run}" == "test" ]]; then
  # fonts-liberation: only "recommended" by chromium, and --no-install-recommends skips it;
  # without a font the page test would screenshot text that never rendered.
  want+=(pulseaudio pulseaudio-utils libportaudio2 chromium fonts-liberation)
  # dbus: dbus-daemon for a private session bus; playerctl: an MPRIS client
  want+=(dbus playerctl)
fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} with apt-get ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  exit 0
fi

echo "voice_coach needs: ${missing[*]}" >&2
if command -v apt-get >/dev/null; then
  echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
else
  echo "On macOS:  brew install espeak-ng ffmpeg  (and portaudio for live playback)" >&2
fi
exit 1
