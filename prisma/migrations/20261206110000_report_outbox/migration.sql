-- Report mails (docs/monitoring.md): one row per thing to report, written in the same transaction
-- as what it reports. A trigger adds one whenever a backup session or a restore run first turns
-- final, whatever code path ended it (finish, a failed start, an abort, the sweep); a backup
-- refused for free space adds its own. Workers send them as `report.send` jobs (retried with
-- backoff), and the row keeps what was sent, for the server page.
CREATE TABLE "report_outbox" (
  "id" BIGSERIAL PRIMARY KEY,
  "server" TEXT NOT NULL,
  "kind" TEXT NOT NULL,
  "label" TEXT NOT NULL DEFAULT '',
  "status" TEXT NOT NULL DEFAULT '',
  "detail" TEXT NOT NULL DEFAULT '',
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "state" TEXT NOT NULL DEFAULT 'new',
  "queued_at" TIMESTAMPTZ(3),
  "sent_at" TIMESTAMPTZ(3),
  "recipients" TEXT[] DEFAULT '{}',
  "subject" TEXT NOT NULL DEFAULT '',
  "error" TEXT
);
CREATE INDEX "report_outbox_state_idx" ON "report_outbox"("state", "server");
CREATE INDEX "report_outbox_server_created_idx" ON "report_outbox"("server", "created_at");

CREATE FUNCTION report_session_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status::text IN ('completed', 'failed', 'aborted', 'interrupted') AND OLD.status::text IN ('queued', 'running') THEN
    INSERT INTO report_outbox (server, kind, label, status)
      SELECT s.name, 'session', NEW.label, NEW.status::text FROM server s WHERE s.id = NEW.server_id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER backup_session_report AFTER UPDATE OF status ON backup_session
  FOR EACH ROW EXECUTE FUNCTION report_session_end();

CREATE FUNCTION report_restore_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status NOT IN ('queued', 'running', 'failing') AND OLD.status IN ('queued', 'running', 'failing') THEN
    INSERT INTO report_outbox (server, kind, label, status) VALUES (NEW.server, 'restore', NEW.label, NEW.status);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER restore_run_report AFTER UPDATE OF status ON restore_run
  FOR EACH ROW EXECUTE FUNCTION report_restore_end();
