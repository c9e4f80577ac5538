-- The language each user reads the hub in (pages, e-mails, toasts); NULL follows the hub's
-- LANGUAGE setting, so changing that setting moves everyone who has not chosen.
ALTER TABLE users ADD COLUMN language VARCHAR(2) CHECK (language IN ('da', 'en'));
