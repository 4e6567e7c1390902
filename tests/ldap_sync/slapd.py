"""A throwaway OpenLDAP server for tests and benchmarks: slapd from Debian, unprivileged.

Each ``Slapd`` lives in its own temporary directory with a slapd.conf (mdb database, the
syncprov and memberof overlays, ACLs that hide entryUUID from one service account) and
listens on a free loopback port. When the test runs as root, slapd runs as ``nobody``.
``create(syncprov=False)`` leaves out syncprov (the server then offers no syncrepl);
``create(tls=True)`` makes a throwaway CA and serves StartTLS and ldaps:// with its certificate.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
DISABLED_GROUP = f"cn=lightning-disabled,{GROUPS}"
READER_DN = f"cn=reader,ou=services,{SUFFIX}"
BLIND_DN = f"cn=blind,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret"
USER_FILTER = (
    f"(&(objectClass=inetOrgPerson)(uid=*)(!(employeeType=inactive))(!(memberOf={DISABLED_GROUP})))"
)

_SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
_CONF = """\
{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
{syncprov_module}
moduleload memberof
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
sizelimit unlimited
{tls}

database mdb
maxsize 268435456
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {dir}/db
index objectClass,entryCSN,entryUUID,uid,member eq
limits dn.exact="{reader}" size=unlimited
access to attrs=userPassword by anonymous auth by * none
access to attrs=entryUUID by dn.exact="{blind}" none by * read
access to * by * read

{syncprov}
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
"""
_SYNCPROV = """\
overlay syncprov
syncprov-checkpoint 100 10
syncprov-sessionlog 1000
"""
_TLS = """\
TLSCACertificateFile {dir}/ca.pem
TLSCertificateFile {dir}/server.pem
TLSCertificateKeyFile {dir}/server-key.pem
"""
_SEED = """\
dn: {suffix}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: {people}
objectClass: organizationalUnit
ou: people

dn: {groups}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{suffix}
objectClass: organizationalUnit
ou: services

dn: {reader}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: {password}

dn: {blind}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: blind
userPassword: {password}

dn: {disabled}
objectClass: groupOfNames
cn: lightning-disabled
member: {root_dn}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Slapd:
    """One slapd instance; ``start``/``stop`` may be called repeatedly (same data, same port)."""

    dir: Path
    port: int = field(default_factory=free_port)
    tls_port: int | None = None
    """The ldaps:// port when created with ``tls=True``."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        if self.tls_port is None:
            raise RuntimeError("this slapd was created without tls=True")
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def ca_file(self) -> Path:
        """The PEM certificate of the CA that signed the server's certificate (``tls=True``)."""
        return self.dir / "ca.pem"

    @classmethod
    def create(cls, seed_ldif: str = "", *, syncprov: bool = True, tls: bool = False) -> Slapd:
        for tool in ("slapd", "slapadd", "slaptest"):
            if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
                pytest.skip(f"{tool} is not installed (Debian package slapd)")
        directory = Path(tempfile.mkdtemp(prefix="switchgeard-slapd-"))
        (directory / "db").mkdir()
        includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in _SCHEMAS)
        (directory / "slapd.conf").write_text(
            _CONF.format(
                includes=includes,
                dir=directory,
                suffix=SUFFIX,
                root_dn=ROOT_DN,
                root_password=ROOT_PASSWORD,
                reader=READER_DN,
                blind=BLIND_DN,
                syncprov_module="moduleload syncprov" if syncprov else "",
                syncprov=_SYNCPROV if syncprov else "",
                tls=_TLS.format(dir=directory) if tls else "",
            )
        )
        if tls:
            _write_certificates(directory)
        seed = _SEED.format(
            suffix=SUFFIX,
            people=PEOPLE,
            groups=GROUPS,
            reader=READER_DN,
            blind=BLIND_DN,
            password=SERVICE_PASSWORD,
            disabled=DISABLED_GROUP,
            root_dn=ROOT_DN,
        )
        (directory / "seed.ldif").write_text(seed + ("\n" + seed_ldif if seed_ldif else ""))
        server = cls(directory, tls_port=free_port() if tls else None)
        server._run_offline("slaptest", "-Q", "-u")
        server._run_offline("slapadd", "-q", "-l", str(directory / "seed.ldif"))
        server._hand_over()
        return server

    def _run_offline(self, tool: str, *args: str) -> None:
        command = [_sbin(tool), "-f", str(self.dir / "slapd.conf"), *args]
        done = subprocess.run(command, capture_output=True, check=False, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.decode(errors='replace')}")

    def _hand_over(self) -> None:
        if os.geteuid() != 0:
            return
        nobody = pwd.getpwnam("nobody")
        for path in [self.dir, *self.dir.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)

    def start(self) -> None:
        """Start slapd and wait until it accepts connections (at most 10 s)."""
        urls = self.uri + "/" + ("" if self.tls_port is None else f" {self.ldaps_uri}/")
        command = [_sbin("slapd"), "-f", str(self.dir / "slapd.conf"), "-h", urls]
        command += ["-d", "0"]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
        log = (self.dir / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(self.dir / 'slapd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("slapd did not start within 10 s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _write_certificates(directory: Path) -> None:
    """A throwaway CA (ca.pem) and a certificate for 127.0.0.1 and localhost signed by it."""
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(directory / "ca.pem"))
    server = authority.issue_cert("127.0.0.1", "localhost")
    server.cert_chain_pems[0].write_to_path(str(directory / "server.pem"))
    server.private_key_pem.write_to_path(str(directory / "server-key.pem"))


def _sbin(tool: str) -> str:
    return shutil.which(tool) or f"/usr/sbin/{tool}"
