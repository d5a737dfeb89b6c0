# Sourced by scripts/container-test.sh and scripts/compose-test.sh: what running containers takes on
# these machines, said once. No registry and no Docker engine: Debian's buildah builds, podman runs
# with runc and cgroupfs (crun refuses here), and the base images are local stand-ins made once per
# machine and kept:
#   localhost/debian:bookworm-slim   debootstrap --variant=minbase, trimmed like the official slim image
#   localhost/swift-builder:bookworm deploy/container/swift-builder.Containerfile (toolchain mounted at build)
#   localhost/redis:bookworm         deploy/container/redis.Containerfile
#   localhost/prometheus:bookworm    deploy/container/prometheus.Containerfile
bash scripts/setup.sh podman buildah runc debootstrap podman-compose golang-github-containernetworking-plugin-dnsname \
  curl python3 >/dev/null
export CONTAINERS_CONF="${TMPDIR:-/tmp}/redis-gateway-containers.conf"
# Containers may not raise limits above podman's own here (no CAP_SYS_RESOURCE): explicit, lower ones.
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' \
  >"$CONTAINERS_CONF"
stand_ins=/var/tmp/redis-gateway-images

# ensure_image NAME CONTAINERFILE: builds the stand-in NAME from CONTAINERFILE unless it exists.
ensure_image() {
  podman image exists "$1" && return 0
  mkdir -p "$stand_ins"
  buildah bud --isolation chroot --layers -f "$2" -t "$1" deploy/container >"$stand_ins/$(basename "$2").log" 2>&1 \
    || { tail -20 "$stand_ins/$(basename "$2").log"; return 1; }
}

ensure_base_images() {
  if ! podman image exists localhost/debian:bookworm-slim; then
    rm -rf "$stand_ins/rootfs" && mkdir -p "$stand_ins"
    debootstrap --variant=minbase bookworm "$stand_ins/rootfs" http://deb.debian.org/debian >"$stand_ins/debootstrap.log"
    rm -rf "$stand_ins"/rootfs/var/cache/apt/archives/*.deb "$stand_ins"/rootfs/var/cache/apt/*.bin "$stand_ins"/rootfs/var/lib/apt/lists/* \
      "$stand_ins"/rootfs/usr/share/doc/* "$stand_ins"/rootfs/usr/share/man/* "$stand_ins"/rootfs/usr/share/locale/* \
      "$stand_ins"/rootfs/usr/share/info/*
    # As the official slim image does: apt keeps no package caches or downloaded archives.
    cat >"$stand_ins/rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    tar -C "$stand_ins/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - localhost/debian:bookworm-slim >/dev/null
    rm -rf "$stand_ins/rootfs"
  fi
  ensure_image localhost/swift-builder:bookworm deploy/container/swift-builder.Containerfile
}

# build_gateway_image TAG: the repository's Dockerfile with the stand-ins; the Swift toolchain and,
# where present, the local Swift package copies and git's redirect to them mounted, not copied.
build_gateway_image() {
  local mounts=(-v /opt/swift:/opt/swift:ro) path
  for path in /opt/swift-packages /etc/gitconfig; do [ -e "$path" ] && mounts+=(-v "$path:$path:ro"); done
  buildah bud --isolation chroot --layers --format docker \
    --build-arg BUILDER_IMAGE=localhost/swift-builder:bookworm --build-arg RUNTIME_IMAGE=localhost/debian:bookworm-slim \
    "${mounts[@]}" -t "$1" .
}

source scripts/loopback.sh
