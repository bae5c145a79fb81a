#!/bin/sh
# The replica service: on an empty volume, copy the primary with pg_basebackup -R (which writes
# standby.signal and primary_conninfo), then run PostgreSQL as a hot standby streaming from it.
set -eu

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready --host=postgres --username="$POSTGRES_USER" --quiet; do sleep 1; done
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --host=postgres --username=replicator \
        --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf --checkpoint=fast
    chmod 0700 "$PGDATA"
fi

exec docker-entrypoint.sh postgres -c hot_standby=on
