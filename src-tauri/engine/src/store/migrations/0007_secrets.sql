-- Passwords of encrypted PDFs leave the database for the operating system's keyring
-- (engine/src/secrets.rs), filed under this library's id and the document's.
CREATE TABLE library (id TEXT NOT NULL);
INSERT INTO library (id) VALUES (lower(hex(randomblob(16))));
-- PASSWORDS MOVED OUT HERE: store::migrate hands each kept password to the keyring, then:
ALTER TABLE documents DROP COLUMN password;
