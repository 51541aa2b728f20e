-- backup --exclude-blobs (Zimbra's zimbraBackupSkipBlobs): a session that holds the mailboxes'
-- metadata only. Its full snapshots name the message bodies they need but the target does not
-- hold them; a restore from it needs them on the blob volume.
ALTER TABLE "backup_session" ADD COLUMN "exclude_blobs" BOOLEAN NOT NULL DEFAULT false;
