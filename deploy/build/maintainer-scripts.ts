// postinst/prerm/postrm of the offhook packages. Debian habits: a system user made on configure, configs readable
// by that user only, units reloaded but never enabled or started by the package (the hints say how), a running
// service restarted on upgrade and stopped on removal, state removed only on purge.

const USER_AND_ETC = `
if ! getent passwd offhook >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/offhook --no-create-home --shell /usr/sbin/nologin offhook
fi
if [ -d /etc/offhook ]; then
  chown root:offhook /etc/offhook
  chmod 0750 /etc/offhook
fi`;

const SYSTEMD = '[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1';

/** `role` null: the common offhook package (user only, no unit). */
export function maintainerScripts(role: 'agent' | 'collector' | 'gateway' | null): {
  postinst: string;
  prerm?: string;
  postrm?: string;
} {
  if (!role) return { postinst: `case "$1" in\n  configure)${USER_AND_ETC.replaceAll('\n', '\n  ')}\n  ;;\nesac` };
  const unit = `offhook-${role}`;
  const config = `/etc/offhook/${role}.yaml`;
  const postinst = `
case "$1" in
  configure)
${USER_AND_ETC.replace(/^/gm, '    ').trimEnd()}
    # NATS credentials and phone numbers: readable by offhook, writable by root.
    chown root:offhook ${config}
    chmod 0640 ${config}
    if ${SYSTEMD}; then
      systemctl daemon-reload || true
      if [ -n "$2" ] && systemctl is-active --quiet ${unit}; then systemctl restart ${unit} || true; fi
    fi
    if [ -z "$2" ]; then
      echo "${unit}: edit ${config} and check it: offhook check-config ${config}"
      echo "${unit}: then start it at boot and now: systemctl enable --now ${unit}"
    fi
    ;;
esac`;
  const prerm = `
case "$1" in
  remove|deconfigure)
    if ${SYSTEMD}; then systemctl stop ${unit} || true; fi
    ;;
esac`;
  const postrm = `
case "$1" in
  remove)
    if ${SYSTEMD}; then systemctl daemon-reload || true; fi
    echo "${unit}: removed; ${config} is kept (dpkg --purge ${unit} removes it and /var/lib/offhook/${role})"
    ;;
  purge)
    rm -rf /var/lib/offhook/${role}
    if ${SYSTEMD}; then systemctl daemon-reload || true; fi
    ;;
esac`;
  return { postinst, prerm, postrm };
}
