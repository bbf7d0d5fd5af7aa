#!/usr/bin/env bash
# Produce en este equipo, sin Docker ni registro de imágenes, la imagen base de
# docker/Dockerfile (debian:bookworm-slim): una Debian 12 mínima hecha con
# debootstrap desde el registro de paquetes de Debian, con los mismos recortes
# que la oficial (la hace debuerreotype con la variante minbase y sin manuales,
# documentación ni traducciones). La guarda en el almacén local de buildah con
# el nombre completo de la oficial, y así `buildah bud` la usa sin descargar
# nada. Si ya existe, no hace nada.
#
# Uso, como root: docker/base_image.sh [RÉPLICA]
#   (por defecto, http://deb.debian.org/debian)
set -euo pipefail

image=docker.io/library/debian:bookworm-slim
mirror="${1:-http://deb.debian.org/debian}"

if buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "La imagen base $image ya está en el almacén de buildah."
  exit 0
fi

container="$(buildah from scratch)"
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
root="$(buildah mount "$container")"

# Los recortes de la imagen oficial, antes de instalar nada: dpkg no escribe
# manuales, documentación ni traducciones.
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
cat > "$root/etc/dpkg/dpkg.cfg.d/docker" <<'FIN'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
FIN

debootstrap --variant=minbase bookworm "$root" "$mirror"

# Las fuentes de paquetes de la oficial (deb822), sin listas descargadas.
rm -f "$root/etc/apt/sources.list"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<'FIN'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
FIN
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/log/"*.log \
  "$root/var/cache/ldconfig/aux-cache" "$root/var/cache/debconf/"*-old
# debootstrap desempaqueta los paquetes esenciales sin dpkg, así que las
# exclusiones de arriba no les valen: se aplican ahora, como hace
# debuerreotype («slimify») con la oficial.
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/lintian/"*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --cmd bash --os linux --arch "$(dpkg --print-architecture)" "$container"
buildah umount "$container" >/dev/null
buildah commit --format docker --rm "$container" "$image"
trap - EXIT
echo "Imagen base $image creada con debootstrap desde $mirror."
