#!/usr/bin/env bash
# Installs the external tools that buko-export's integration tests shell out to:
# epubcheck (run as `java -jar /usr/share/java/epubcheck.jar`; Debian's wrapper
# script is broken), poppler-utils (pdfinfo, pdftotext, pdftoppm) and a headless
# LibreOffice Writer (opens the DOCX). Idempotent: prints nothing and exits 0
# when everything is already present. Needs root (or sudo) to install.
set -euo pipefail

missing=()
[ -f /usr/share/java/epubcheck.jar ] || missing+=(epubcheck)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v pdfinfo >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
# LibreOffice substitutes fonts when converting DOCX; ship a metric-compatible
# family so its PDF carries real glyphs for Spanish text.
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
[ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

echo "install-export-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
