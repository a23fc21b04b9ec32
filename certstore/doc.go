// Package certstore finds every local identity (certificate + private key) of the user, tells
// which one belongs to which gateway account, and removes a wrong one safely — the fix for
// Error 2035, where a browser offers a certificate bound to another account.
//
// One Store interface covers the backends, every identity is addressed by its SHA-256
// fingerprint (lower-case hex, as api.Certificate.SHA256), and every change is verified by
// listing the store again:
//
//   - FileStore: the app's own store in MAGDESK_HOME/certs — PKCS#12 files (go-pkcs12 Modern
//     encoder) whose random passwords live in the OS keyring, the public certificate beside each
//     file so that listing decrypts nothing, and index.json with the non-secret record of which
//     account requested which certificate. Removal deletes the files and the key's password (the
//     verified backup taken first is the undo).
//   - NSSStore: one NSS database (Chrome/Chromium's ~/.pki/nssdb, Firefox profiles; see
//     DiscoverNSS). Changes go through certutil and pk12util with passwords in 0600 files of a
//     private temporary folder, never argv. NSS gives all certificates of one subject one
//     nickname, so a target is renamed to a unique nickname before certutil acts on it (and the
//     others get their names back afterwards). Listing reads cert9.db/key4.db directly with the
//     pure-Go SQLite engine, read-only; certutil lists legacy (dbm) databases.
//   - WindowsStore: CurrentUser\MY through crypt32/ncrypt without cgo; the decisions (refuse
//     smart-card keys, keep a key another certificate shares, delete the key before the
//     certificate) are in wincert.go and tested over a fake system layer.
//   - KeychainStore: the macOS keychains through the `security` command; removal repeats
//     `delete-identity -Z SHA1 KEYCHAIN` until the identity is gone from every keychain.
//
// Inventory opens the stores that apply on this OS (narrowed by policy's cert_stores).
// Classify judges identities against the logged-in account (bound, wrong_account, not_bound,
// expired, revoked, foreign); RemoveIdentity is the fix (verified backup, removal, proof);
// RequestIdentity makes a key pair locally and stores the issued certificate with its account
// record; IdentityForLogin picks the identity of one user and never another's.
//
// Errors are *Error values with a stable Code and a sentence that says what to do.
package certstore
