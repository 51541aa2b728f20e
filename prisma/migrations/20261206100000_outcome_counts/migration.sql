-- How many backup sessions and restore runs ended each way, per server: counters that only grow
-- (Prometheus counters, GET /api/metrics), unlike the catalog, which retention and rescans trim.
-- A trigger counts the moment a row's status first turns final; a rescan's inserts are not ends.
CREATE TABLE "outcome_count" (
  "kind" TEXT NOT NULL,
  "server" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "count" BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY ("kind", "server", "type", "status")
);

CREATE FUNCTION count_session_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status::text IN ('completed', 'failed', 'aborted', 'interrupted') AND OLD.status::text IN ('queued', 'running') THEN
    INSERT INTO outcome_count (kind, server, type, status, count)
      SELECT 'backup', s.name, NEW.type::text, NEW.status::text, 1 FROM server s WHERE s.id = NEW.server_id
      ON CONFLICT (kind, server, type, status) DO UPDATE SET count = outcome_count.count + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER backup_session_outcome AFTER UPDATE OF status ON backup_session
  FOR EACH ROW EXECUTE FUNCTION count_session_outcome();

CREATE FUNCTION count_restore_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status NOT IN ('queued', 'running', 'failing') AND OLD.status IN ('queued', 'running', 'failing') THEN
    INSERT INTO outcome_count (kind, server, type, status, count)
      VALUES ('restore', NEW.server, 'restore', NEW.status, 1)
      ON CONFLICT (kind, server, type, status) DO UPDATE SET count = outcome_count.count + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER restore_run_outcome AFTER UPDATE OF status ON restore_run
  FOR EACH ROW EXECUTE FUNCTION count_restore_outcome();
