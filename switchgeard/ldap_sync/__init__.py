"""Lightning Address (LUD-16) identifiers mirrored from LDAP into the store.

python-ldap is imported only inside this package (and only when a sync runs, so the daemon
works without it when ``[ldap]`` is absent); it never imports the HTTP apps.
"""

from switchgeard.ldap_sync.status import EntryProblem, LdapStatistics
from switchgeard.ldap_sync.sync import LdapSyncer, run_ldap_sync

__all__ = ["EntryProblem", "LdapStatistics", "LdapSyncer", "run_ldap_sync"]
