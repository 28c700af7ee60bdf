DROP TABLE credential_epoch;
