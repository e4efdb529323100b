#!/usr/bin/env bash
# Install, upgrade or remove filterd on a Debian 12 / Raspberry Pi OS box (arm64, armhf, amd64).
#
#   sudo deploy/install.sh               install, or upgrade in place (settings, accounts,
#                                        rules and logs are kept; databases migrate on start)
#   sudo deploy/install.sh --uninstall   stop and remove the services and /opt/filterd; the
#                                        settings and data stay (add --purge to remove them and
#                                        the two users too)
#
# Two services, each its own user with no root: filterd (DNS on port 53) and filterd-dashboard
# (HTTPS on 443, the redirect and block page on 80, on the box's LAN addresses).
#
# For tests and image builds: --root DIR installs into DIR instead of / (no packages, users or
# running services are touched there: each such step says it was left out), and
# --link-venv PATH uses an existing Python environment instead of building one.
set -Eeuo pipefail
# Whatever step fails stops the install, and says which one (not only that command's own words).
trap 'status=$?; echo "install.sh: stopped, this step failed (exit $status): $BASH_COMMAND" >&2' ERR

root="" link_venv="" action=install purge=no
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$(cd "$2" && pwd); shift 2 ;;
    --root=*) root=$(cd "${1#--root=}" && pwd); shift ;;
    --link-venv) link_venv=$2; shift 2 ;;
    --uninstall) action=uninstall; shift ;;
    --purge) purge=yes; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$purge" = yes ] && [ "$action" != uninstall ]; then
  echo "install.sh: --purge goes with --uninstall (nothing was changed)" >&2
  exit 2
fi
if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
  echo "run as root: sudo $0" >&2
  exit 1
fi

src=$(cd "$(dirname "$0")/.." && pwd)
opt=$root/opt/filterd
etc=$root/etc/filterd
state=$root/var/lib/filterd
web_state=$root/var/lib/filterd-web
units=$root/etc/systemd/system
config=$etc/filterd.yaml
UNITS="filterd.service filterd-dashboard.service"
# The nightly backup (filterd backup --keep 14 into /var/lib/filterd-web/backups).
TIMER=filterd-backup.timer
BACKUP_UNITS="filterd-backup.service $TIMER"

left_out() { echo "left out in --root mode: $*"; }

if [ "$action" = uninstall ]; then
  if [ -z "$root" ]; then
    systemctl disable --now $UNITS $TIMER 2>/dev/null || true
  else
    left_out "stopping the services"
  fi
  for unit in $UNITS $BACKUP_UNITS; do
    rm -f "$units/$unit" "$units/multi-user.target.wants/$unit" "$units/timers.target.wants/$unit"
  done
  [ -z "$root" ] && systemctl daemon-reload
  rm -rf "$opt"
  if [ "$purge" = yes ]; then
    rm -rf "$etc" "$state" "$web_state"
    if [ -z "$root" ]; then
      userdel filterd-web 2>/dev/null || true
      userdel filterd 2>/dev/null || true
    else
      left_out "removing the users filterd and filterd-web"
    fi
    echo "filterd is removed, with its settings, accounts, rules and logs."
  else
    echo "filterd is removed. Its settings ($etc) and data ($state, $web_state) are kept;"
    echo "run again with --uninstall --purge to remove them too."
  fi
  echo "Set your router's DNS server back to what it was (see deploy/ROUTER.md)."
  exit 0
fi

upgrade=no
[ -f "$config" ] && upgrade=yes

# Packages and users: only on a real box.
if [ -z "$root" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv ieee-data iproute2 fonts-dejavu-core
  id filterd >/dev/null 2>&1 ||
    useradd --system --home /var/lib/filterd --shell /usr/sbin/nologin filterd
  id filterd-web >/dev/null 2>&1 ||
    useradd --system --home /var/lib/filterd-web --shell /usr/sbin/nologin filterd-web
  usermod -a -G filterd filterd-web  # reads filterd.db, rewrites the rules file
  systemctl stop $UNITS 2>/dev/null || true  # an upgrade: swap the code while stopped
else
  left_out "installing python3, python3-venv, ieee-data, iproute2"
  left_out "creating the users filterd and filterd-web"
fi

# The code: replaced on every run (nothing of the box's own lives in /opt/filterd).
mkdir -p "$opt" "$etc" "$state" "$web_state" "$units"
find "$opt" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
tar -C "$src" --exclude=./.venv --exclude=./var --exclude=./.git --exclude=./test-output --exclude=./.pytest_cache --exclude=./.ruff_cache \
  --exclude='*.egg-info' --exclude='__pycache__' -cf - . | tar -C "$opt" -xf -
if [ -n "$link_venv" ]; then
  # The installed command runs that environment's (a wrapper, so it is a file inside --root).
  linked=$(cd "$link_venv" && pwd)
  rm -rf "$opt/.venv"
  mkdir -p "$opt/.venv/bin"
  printf '#!/bin/sh\nexec %s/bin/filterd "$@"\n' "$linked" > "$opt/.venv/bin/filterd"
  chmod 0755 "$opt/.venv/bin/filterd"
else
  rm -rf "$opt/.venv"
  python3 -m venv "$opt/.venv"
  "$opt/.venv/bin/pip" install --quiet -e "$opt"  # in place: it reads /opt/filterd/blocklists
fi
filterd=$opt/.venv/bin/filterd

# The LAN: the interface the default route leaves by, and its IPv4 address.
lan=$(ip route show default 2>/dev/null | awk '{print $5; exit}')
box_ip=""
[ -n "$lan" ] && box_ip=$(ip -4 -o addr show dev "$lan" 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
# Its private IPv6 address (a ULA, fc00::/7), which filterd.home.arpa's AAAA answer may give: the
# dashboard answers to it and its certificate covers it (a global one is left out, as a public
# IPv4 is; a link-local one needs a zone no browser takes in an address).
box_ip6=""
[ -n "$lan" ] && box_ip6=$(ip -6 -o addr show dev "$lan" scope global 2>/dev/null |
  awk '{split($4, a, "/"); if (a[1] ~ /^f[cd][0-9a-f]*:/) {print a[1]; exit}}')
# The dashboard on every address of both families when the box has IPv6 (one dual-stack socket
# each for HTTPS and HTTP), else on every IPv4 address.
web_any="0.0.0.0"
grep -qs . /proc/net/if_inet6 && web_any="[::]"

# Settings: written once; an upgrade keeps the file exactly as the carer left it. A new box
# subscribes each category to the public lists marked "#+" in the example (README "Blocklists").
if [ "$upgrade" = no ]; then
  hosts='"localhost", "127.0.0.1", "filterd.home.arpa"'
  [ -n "$box_ip" ] && hosts="$hosts, \"$box_ip\""
  [ -n "$box_ip6" ] && hosts="$hosts, \"$box_ip6\""
  sed -e 's#"127.0.0.1:1053"#"0.0.0.0:53"#' -e 's#"\[::1\]:1053"#"[::]:53"#' \
      -e 's#"var/filterd.db"#"/var/lib/filterd/filterd.db"#' \
      -e 's#"var/lists"#"/var/lib/filterd/lists"#' \
      -e 's#"var/rules.yaml"#"/var/lib/filterd/rules.yaml"#' \
      -e "s#\"127.0.0.1:8443\"#\"$web_any:443\"#" -e "s#\"127.0.0.1:8080\"#\"$web_any:80\"#" \
      -e 's#"var/dashboard.db"#"/var/lib/filterd-web/dashboard.db"#' \
      -e "s#^  allowed_hosts: .*#  allowed_hosts: [$hosts]#" \
      -e 's#"https://filterd.home.arpa:8443"#"https://filterd.home.arpa"#' \
      -e "s#^  interface: null#  interface: ${lan:-null}#" \
      -e 's/^  #+ /  /' \
      -e 's#^  style: "null_ip"#  style: "block_page"#' \
      "$opt/config/filterd.example.yaml" > "$config.new"
  mv "$config.new" "$config"
elif [ -n "$box_ip" ] && ! grep -E '^  allowed_hosts:' "$config" | grep -qF "\"$box_ip\""; then
  # An upgrade on a box whose address changed (or a restore from another box): the address
  # printed below must be one the dashboard answers to, and its certificate then covers it.
  # Only the allowed_hosts line changes (a one-line list, as the installer writes it).
  sed -E "s#^(  allowed_hosts: \[.*[^[ ])( *\])#\1, \"$box_ip\"\2#" "$config" > "$config.new"
  cat "$config.new" > "$config" && rm -f "$config.new"
fi
# The rules start with no children and every unassigned device filtered strictly.
[ -f "$state/rules.yaml" ] || cp "$opt/config/rules.starter.yaml" "$state/rules.yaml"
if [ -z "$root" ]; then
  chown root:filterd "$etc" "$config" && chmod 0750 "$etc" && chmod 0640 "$config"
  # Set-group-ID directories: whatever either user creates there (the rules file the dashboard
  # rewrites, SQLite's -wal and -shm files) belongs to the group filterd, so the other can use it.
  chown -R filterd:filterd "$state" && chmod -R g+rw "$state"
  find "$state" -type d -exec chmod 2770 {} +
  chown -R filterd-web:filterd-web "$web_state" && chmod 0700 "$web_state"
else
  left_out "giving the files to the users filterd and filterd-web"
fi

for unit in $UNITS $BACKUP_UNITS; do install -m 0644 "$opt/deploy/$unit" "$units/$unit"; done
if [ -z "$root" ]; then
  systemctl daemon-reload
  systemctl enable --now $UNITS $TIMER
  as_web() { runuser -u filterd-web -- "$@"; }
else
  systemctl --root="$root" enable $UNITS >/dev/null 2>&1 || {
    mkdir -p "$units/multi-user.target.wants"
    for unit in $UNITS; do ln -sf "/etc/systemd/system/$unit" "$units/multi-user.target.wants/$unit"; done
  }
  systemctl --root="$root" enable $TIMER >/dev/null 2>&1 || {
    mkdir -p "$units/timers.target.wants"
    ln -sf "/etc/systemd/system/$TIMER" "$units/timers.target.wants/$TIMER"
  }
  left_out "starting the services"
  # The box's own commands, on the settings as they are inside the scratch root.
  sed -e "s#\"/var/lib/#\"$root/var/lib/#g" "$config" > "$root/filterd-root-view.yaml"
  config=$root/filterd-root-view.yaml
  as_web() { "$@"; }
fi

# Where the dashboard runs (its unit's WorkingDirectory), so relative paths mean the same.
cd "$web_state"
# Each as the dashboard's user, so a file it cannot reach shows now, in words, not later.
certificate=$(as_web "$filterd" certificate --config "$config" 2>&1) || true
# Two fingerprints (README "HTTPS"): the box's certificate authority's, then the dashboard's own.
ca_fingerprint=$(printf '%s\n' "$certificate" | awk '/^certificate to trust/ {c = 1} c && /SHA-256/ {print $NF; exit}')
fingerprint=$(printf '%s\n' "$certificate" | awk '/^dashboard certificate/ {c = 1} c && /SHA-256/ {print $NF; exit}')
code_said=$(as_web "$filterd" setup-code --config "$config" 2>&1) || true
code=$(printf '%s\n' "$code_said" | grep -E '^[A-Z0-9]{4}(-[A-Z0-9]{4})+$' | head -n 1) || true
problems=""
[ -n "$fingerprint" ] || problems="$problems
  the dashboard's certificate: $certificate"
if [ -z "$code" ] && ! printf '%s' "$code_said" | grep -q "already set up"; then
  problems="$problems
  the set-up code: $code_said"
fi
[ -n "$root" ] && rm -f "$root/filterd-root-view.yaml"

echo
if [ "$upgrade" = yes ]; then
  echo "filterd is upgraded. Every setting, account, rule and log was kept."
elif [ -n "$root" ]; then
  echo "filterd is installed in $root (its services start when that system boots)."
else
  echo "filterd is installed and running."
fi
echo
echo "1. Open the dashboard on a phone or laptop on this Wi-Fi:"
echo "     https://filterd.home.arpa   (once the router uses this box for DNS)"
[ -n "$box_ip" ] && echo "     https://$box_ip   (works straight away)"
echo "   Your browser will warn that it does not know this box's certificate. Before you"
echo "   continue, open the warning's details (or the padlock's certificate viewer): the first"
echo "   certificate it shows is the dashboard's own, and its SHA-256 fingerprint must be:"
echo "     ${fingerprint:-(see: sudo -u filterd-web $filterd certificate --config /etc/filterd/filterd.yaml)}"
if [ -n "$ca_fingerprint" ]; then
  echo "   The viewer's next one up is the box's own certificate authority (also the file to"
  echo "   install on a phone, from http://${box_ip:-filterd.home.arpa}/filterd-ca.crt); its fingerprint:"
  echo "     $ca_fingerprint"
fi
if [ -n "$code" ]; then
  echo "2. The first visit asks for this one-time set-up code, so nobody else on the Wi-Fi can"
  echo "   take the box over:   $code"
elif [ -z "$problems" ]; then
  echo "2. The dashboard is already set up: log in with an administrator account."
else
  echo "2. The set-up code could not be made (see below). Once that is fixed, show it with:"
  echo "     sudo -u filterd-web $filterd setup-code --config /etc/filterd/filterd.yaml"
fi
address=${box_ip:-"this box's address"}
echo "3. Change one setting on your router: in its DHCP settings, set the DNS server to"
echo "   $address and leave the second DNS server empty. Then turn Wi-Fi off and on"
echo "   on each device. Step by step: /opt/filterd/deploy/ROUTER.md"
if grep -q '^  listen: "127\.0\.0\.1:' "$etc/filterd.yaml"; then
  echo
  echo "Note: your settings (kept as they were) let the dashboard answer only on this box. To"
  echo "reach it from a phone, set dashboard listen to \"0.0.0.0:443\" and http_listen to"
  echo "\"0.0.0.0:80\" in /etc/filterd/filterd.yaml, then: sudo systemctl restart filterd-dashboard"
fi
# An upgraded box whose settings predate the list subscriptions (or dropped them) is told how.
subscribed() {
  awk '/^lists:/ { s = 1; if ($0 ~ /^lists: *([^ #{]|\{ *[^ }])/) f = 1; next }
       /^[^ #]/ { s = 0 }
       s && /^  [a-z_]+:/ { f = 1 }
       END { exit !f }' "$1"
}
if [ "$upgrade" = yes ] && ! subscribed "$etc/filterd.yaml"; then
  echo
  echo "Note: your settings download no public blocklists, so each category has only the small"
  echo "list shipped with filterd. To get the lists a new box downloads, copy the lines marked"
  echo "\"#+\" under \"lists:\" in /opt/filterd/config/filterd.example.yaml into"
  echo "/etc/filterd/filterd.yaml without the \"#+ \", then: sudo systemctl reload filterd"
fi
echo
echo "A backup is written every night to /var/lib/filterd-web/backups (the newest 14 kept);"
echo "an administrator can also download one from the dashboard's Health page."
echo "To remove filterd: sudo /opt/filterd/deploy/install.sh --uninstall"
if [ -n "$problems" ]; then
  echo "install.sh: installed, but the dashboard's user could not do this:$problems" >&2
  exit 1
fi
