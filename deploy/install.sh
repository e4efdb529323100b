#!/usr/bin/env bash
# Install filterd on a Debian-based appliance (Raspberry Pi OS included), as root:
#   sudo deploy/install.sh
# Copies the project to /opt/filterd, builds its virtual environment, creates the filterd
# user, puts a starting config in /etc/filterd and enables the systemd unit.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (sudo $0)"; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv ieee-data iproute2
id filterd >/dev/null 2>&1 || useradd --system --home /var/lib/filterd --shell /usr/sbin/nologin filterd
mkdir -p /opt/filterd /etc/filterd /var/lib/filterd
cp -a "$src"/. /opt/filterd/
rm -rf /opt/filterd/.venv /opt/filterd/var
python3 -m venv /opt/filterd/.venv
/opt/filterd/.venv/bin/pip install --quiet -e /opt/filterd  # in place: it reads blocklists/
# The LAN interface for device discovery: the one the default route leaves by.
lan=$(ip route show default 2>/dev/null | awk '{print $5; exit}')
if [ ! -f /etc/filterd/filterd.yaml ]; then
  sed -e 's#"127.0.0.1:1053"#"0.0.0.0:53"#' -e 's#"\[::1\]:1053"#"[::]:53"#' \
      -e 's#"var/filterd.db"#"/var/lib/filterd/filterd.db"#' \
      -e 's#"var/lists"#"/var/lib/filterd/lists"#' \
      -e 's#"var/rules.yaml"#"/var/lib/filterd/rules.yaml"#' \
      -e "s#^  interface: null#  interface: ${lan:-null}#" \
      /opt/filterd/config/filterd.example.yaml > /etc/filterd/filterd.yaml
fi
# The rules file lives with the state: the dashboard rewrites it, filterd watches it.
[ -f /var/lib/filterd/rules.yaml ] || cp /opt/filterd/config/rules.starter.yaml /var/lib/filterd/rules.yaml
chown -R filterd:filterd /var/lib/filterd
install -m 0644 /opt/filterd/deploy/filterd.service /etc/systemd/system/filterd.service
systemctl daemon-reload
systemctl enable --now filterd
echo "filterd is running. Check with: systemctl status filterd; dig @127.0.0.1 example.com"
echo "Now point your router's DHCP DNS server at this box: see /opt/filterd/deploy/ROUTER.md"
