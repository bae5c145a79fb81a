# Search in each text's language (issue 22): the vectors are built with the PostgreSQL text
# search configuration of the challenge's or the solution's language (`simple` where there is
# none), plus the words as written (`simple`), so that a query parsed in any language finds them
# (challenges.search). SQLite has no vectors: nothing to do there.

from django.db import migrations

FORWARD_SQL = """
CREATE OR REPLACE FUNCTION challenges_ts_config(lang text) RETURNS regconfig AS $$
  SELECT coalesce(
    (SELECT c.oid::regconfig FROM pg_ts_config c WHERE c.cfgname = CASE lang
       WHEN 'en' THEN 'english' WHEN 'es' THEN 'spanish' WHEN 'fr' THEN 'french'
       WHEN 'pt-br' THEN 'portuguese' WHEN 'pt' THEN 'portuguese' WHEN 'ar' THEN 'arabic'
       ELSE 'simple' END),
    'simple'::regconfig)
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION challenges_ts_vector(cfg regconfig, body text) RETURNS tsvector AS $$
  SELECT to_tsvector(cfg, coalesce(body, '')) || to_tsvector('simple', coalesce(body, ''))
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION challenges_challenge_search_vector() RETURNS trigger AS $$
DECLARE
  cfg regconfig := challenges_ts_config(NEW.language);
BEGIN
  NEW.search_vector :=
    setweight(challenges_ts_vector(cfg, NEW.title), 'A') ||
    setweight(challenges_ts_vector(cfg, NEW.summary), 'B') ||
    setweight(challenges_ts_vector(cfg, coalesce(NEW.problem, '') || ' ' || coalesce(NEW.context, '')), 'C');
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS challenges_challenge_search_vector ON challenges_challenge;
CREATE TRIGGER challenges_challenge_search_vector
  BEFORE INSERT OR UPDATE OF title, summary, problem, context, language ON challenges_challenge
  FOR EACH ROW EXECUTE FUNCTION challenges_challenge_search_vector();

CREATE OR REPLACE FUNCTION challenges_solution_search_vector() RETURNS trigger AS $$
DECLARE
  revision_body text;
  revision_message text;
  cfg regconfig := challenges_ts_config(NEW.language);
BEGIN
  SELECT r.body, r.message INTO revision_body, revision_message
    FROM challenges_revision r WHERE r.id = NEW.current_revision_id;
  NEW.search_vector :=
    setweight(challenges_ts_vector(cfg, NEW.title), 'A') ||
    setweight(challenges_ts_vector(cfg, revision_message), 'B') ||
    setweight(challenges_ts_vector(cfg, revision_body), 'C');
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS challenges_solution_search_vector ON challenges_solution;
CREATE TRIGGER challenges_solution_search_vector
  BEFORE INSERT OR UPDATE OF title, current_revision_id, language ON challenges_solution
  FOR EACH ROW EXECUTE FUNCTION challenges_solution_search_vector();

UPDATE challenges_challenge SET title = title;
UPDATE challenges_solution SET title = title;
"""

# Back to migration 0002's English-only vectors.
BACKWARD_SQL = """
CREATE OR REPLACE FUNCTION challenges_challenge_search_vector() RETURNS trigger AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.problem, '') || ' ' || coalesce(NEW.context, '')), 'C');
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS challenges_challenge_search_vector ON challenges_challenge;
CREATE TRIGGER challenges_challenge_search_vector
  BEFORE INSERT OR UPDATE OF title, summary, problem, context ON challenges_challenge
  FOR EACH ROW EXECUTE FUNCTION challenges_challenge_search_vector();

CREATE OR REPLACE FUNCTION challenges_solution_search_vector() RETURNS trigger AS $$
DECLARE
  revision_body text;
  revision_message text;
BEGIN
  SELECT r.body, r.message INTO revision_body, revision_message
    FROM challenges_revision r WHERE r.id = NEW.current_revision_id;
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(revision_message, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(revision_body, '')), 'C');
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS challenges_solution_search_vector ON challenges_solution;
CREATE TRIGGER challenges_solution_search_vector
  BEFORE INSERT OR UPDATE OF title, current_revision_id ON challenges_solution
  FOR EACH ROW EXECUTE FUNCTION challenges_solution_search_vector();

DROP FUNCTION IF EXISTS challenges_ts_vector(regconfig, text);
DROP FUNCTION IF EXISTS challenges_ts_config(text);

UPDATE challenges_challenge SET title = title;
UPDATE challenges_solution SET title = title;
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("challenges", "0016_content_languages"),
    ]

    operations = [
        migrations.RunPython(_on_postgres(FORWARD_SQL), _on_postgres(BACKWARD_SQL)),
    ]
