"""Lightning Address (LUD-16) identifiers mirrored from LDAP into the store.

python-ldap is imported only inside this package; it never imports the HTTP apps.
"""
