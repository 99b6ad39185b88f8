"""`make bench` (after the photo bench): recall must stay instant with years of records.

Starts a throwaway PostgreSQL cluster with this machine's binaries (as CI does; installs
Debian's postgresql when absent, as root), migrates, and builds a synthetic pharmacy of
ten years with set-based inserts (generate_series): about 50,000 batches, a tenth of
them stock batches weighed into patients' batches, and 500,000 component weighings. Then,
in one run, it prints:

- the time to trace one component lot to every batch and patient it reached (the
  recursive query behind a recall, `scarrx.pharmacy.queries.trace`), against a plain
  `SELECT count(*)` over the weighings as the baseline: target at most 5 % of it;
- the time to render one label PDF (WeasyPrint, with its QR code).

Figures, not pass/fail; never run by the test suite. The treatment course's 200,000
fills are to be added where FILLS says, with their path in queries.PATIENT_PATHS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TARGET = 0.05
SCALE = {
    "patients": 40_000,
    "ingredients": 40,
    "lots": 4_000,  # 100 lots an ingredient over ten years
    "formulations": 20,
    "batches": 50_000,
    "stock_batches": 5_000,  # every tenth batch: a base made to be weighed into others
    "components_per_batch": 10,  # 500,000 weighings
}
# The treatment course's fills (four or five for each patient batch, each batch's with a
# prescription of its own); their path in PATIENT_PATHS comes with the treatment app.
FILLS = 200_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with postgres() as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("SCARRX_DEBUG", "true")
        with tempfile.TemporaryDirectory(prefix="scarrx-bench-data-") as data:
            os.environ["SCARRX_DATA_DIR"] = data
            return run(args.repeat)


# --- a throwaway PostgreSQL cluster ---------------------------------------------------------


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        if os.geteuid() != 0:
            sys.exit("PostgreSQL is not installed: apt-get install postgresql, then run again")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres():
    pg = _bin()
    work = Path(tempfile.mkdtemp(prefix="scarrx-bench-pg-"))
    work.chmod(0o755)
    data, sock = work / "data", work / "socket"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(work, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = _free_port()
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    subprocess.run(
        _as_postgres([str(pg / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
        **quiet,
    )  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB "
        "-c max_wal_size=4GB"
    )
    log = work / "server.log"
    subprocess.run(
        _as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                      "start", "-o", options]),
        **quiet,
    )  # fmt: skip
    try:
        subprocess.run(
            _as_postgres([str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                          "postgres", "scarrx"]),
            **quiet,
        )  # fmt: skip
        yield f"postgres://postgres@127.0.0.1:{port}/scarrx"
    finally:
        subprocess.run(
            _as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(work, ignore_errors=True)


# --- the synthetic pharmacy ----------------------------------------------------------------


def insert_series(model, count: int, values: dict[str, str]) -> None:
    """INSERT … SELECT over generate_series(1, count) AS g(i): every column of the model,
    from `values` (SQL over i), else its default, else NULL or ''."""
    import json

    from django.db import connection, models

    columns, exprs = [], []
    for f in model._meta.concrete_fields:
        given = values.get(f.name, values.get(f.attname))
        if isinstance(f, models.AutoField) and given is None:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if given is not None:
            exprs.append(given)
        elif f.name == "public_id":
            exprs.append("gen_random_uuid()")
        elif isinstance(f, models.DateTimeField):
            exprs.append("now()")
        elif f.has_default() and not callable(f.default):
            default = f.default
            if isinstance(f, models.JSONField):
                exprs.append(f"'{json.dumps(default)}'::jsonb")
            elif isinstance(default, bool):
                exprs.append("true" if default else "false")
            elif isinstance(default, int | float):
                exprs.append(str(default))
            else:
                exprs.append("'" + str(default).replace("'", "''") + "'")
        elif f.has_default() and isinstance(f, models.JSONField):
            exprs.append(f"'{json.dumps(f.default())}'::jsonb")
        elif f.null:
            exprs.append("NULL")
        else:
            exprs.append("''")
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (  # the bench's own SQL: model names and fixed expressions, nothing typed in
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(exprs)} FROM generate_series(1, {count}) AS g(i)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def build() -> dict:
    from django.db import connection

    from scarrx.accounts.roles import sync_roles
    from scarrx.accounts.services import create_user
    from scarrx.patients.models import Patient
    from scarrx.pharmacy.models import (
        Balance,
        Batch,
        BatchComponent,
        Formulation,
        Ingredient,
        IngredientLot,
        Preparation,
        Weighing,
    )

    sync_roles()
    staff = create_user(
        username="bench",
        role="pharmacist",
        password="bench-only",  # noqa: S106 - a throwaway cluster's only user
        check_password=False,
    ).pk
    n = SCALE
    per = n["components_per_batch"]
    start = "DATE '2016-01-01'"
    insert_series(Patient, n["patients"], {
        "record_number": "'B' || lpad(i::text, 8, '0')",
        "given_name": "'Test'",
        "family_name": "'Patient ' || i",
        "date_of_birth": "DATE '1990-01-01' + (i % 9000)",
        "sex": "'female'",
        "fitzpatrick": "1 + i % 6",
    })  # fmt: skip
    insert_series(Ingredient, n["ingredients"], {
        "name": "'Ingredient ' || i",
        "role": "CASE WHEN i <= 5 THEN 'base' ELSE 'active' END",
    })  # fmt: skip
    first_ingredient = _first(Ingredient)
    insert_series(IngredientLot, n["lots"], {
        "ingredient_id": f"{first_ingredient} + (i - 1) % {n['ingredients']}",
        "supplier": "'Supplier'",
        "lot_number": "'LOT-' || i",
        "expiry_date": f"{start} + (i * 3650 / {n['lots']})::int + 730",
        "received_on": f"{start} + (i * 3650 / {n['lots']})::int",
        "received_g": "1000",
        "on_hand_g": "0",
        "received_by_id": str(staff),
    })  # fmt: skip
    insert_series(Balance, 1, {
        "name": "'Balance'", "readability_g": "0.0001", "minimum_weight_g": "0.02",
        "last_calibrated_on": "current_date",
    })  # fmt: skip
    insert_series(Formulation, n["formulations"], {
        "code": "'MFR-' || i",
        "name": "'Formula ' || i",
        "water_activity": "'non_aqueous'",
        "preserved": "false",
        "status": "'approved'",
        "author_id": str(staff),
    })  # fmt: skip
    first_patient, first_mfr, first_lot = map(_first, (Patient, Formulation, IngredientLot))
    insert_series(Preparation, n["patients"], {
        "patient_id": f"{first_patient} - 1 + i",
        "formulation_id": f"{first_mfr} + i % {n['formulations']}",
        "name": "'Preparation ' || i",
        "water_activity": "'non_aqueous'",
        "preserved": "false",
        "created_by_id": str(staff),
    })  # fmt: skip
    first_prep = _first(Preparation)
    # Ten years of batches in date order; every tenth is a stock base (no patient).
    insert_series(Batch, n["batches"], {
        "id": "i",
        "preparation_id": f"CASE WHEN i % 10 = 0 THEN NULL "
        f"ELSE {first_prep} + (i * 7919) % {n['patients']} END",
        "patient_id": f"CASE WHEN i % 10 = 0 THEN NULL "
        f"ELSE {first_patient} + (i * 7919) % {n['patients']} END",
        "formulation_id": f"{first_mfr} + i % {n['formulations']}",
        "dispensed_g": "30", "wastage_percent": "0", "batch_g": "30",
        "calculation": "''", "weighing_warnings": "'[]'::jsonb",
        "status": "'released'",
        "compounded_by_id": str(staff),
        "started_at": f"({start} + (i * 3650 / {n['batches']})::int)::timestamptz",
        "compounded_on": f"{start} + (i * 3650 / {n['batches']})::int",
        "lot_number": "'C' || i",
        "bud": f"{start} + (i * 3650 / {n['batches']})::int + 180",
    })  # fmt: skip
    insert_series(BatchComponent, n["batches"] * per, {
        "id": "i",
        "batch_id": f"(i - 1) / {per} + 1",
        "ingredient_id": f"{first_ingredient} + (i - 1) % {per}",
        "target_g": "3", "shown_g": "3", "calculation": "''",
        "order": f"(i - 1) % {per}",
    })  # fmt: skip
    # A weighing comes from one of the lots in use at the time (lots follow the calendar),
    # except that half the patient batches weigh their base (the first component) from
    # one of the last stock batches made before them: the batches made from batches.
    batch = f"((i - 1) / {per} + 1)"
    from_stock = f"((i - 1) % {per} = 0 AND {batch} % 10 <> 0 AND {batch} > 60 AND {batch} % 2 = 0)"
    lot = f"{first_lot} + (({batch} * {n['lots']} / {n['batches']}) + (i * 31) % 24) % {n['lots']}"
    source = f"(({batch} / 10) - 1 - ({batch} * 13) % 5) * 10"
    insert_series(Weighing, n["batches"] * per, {
        "batch_id": batch,
        "component_id": "i",
        "lot_id": f"CASE WHEN {from_stock} THEN NULL ELSE {lot} END",
        "source_batch_id": f"CASE WHEN {from_stock} THEN {source} END",
        "balance_id": str(_first(Balance)),
        "balance_minimum_g": "0.02", "balance_calibrated_on": "current_date",
        "actual_g": "3", "deviation_percent": "0", "within_tolerance": "true",
        "check_text": "''", "is_current": "true", "weighed_by_id": str(staff),
    })  # fmt: skip
    # FILLS: the treatment course's fills, so a recall reaches patients through them too.
    from scarrx.treatment.models import Fill, Prescription

    made = n["batches"] - n["stock_batches"]  # the patient batches: ids skip every tenth
    patient_batch = "(k + k / 9 + 1)"
    whose = f"({patient_batch} * 7919) % {n['patients']}"
    insert_series(Prescription, made, {
        "rx_number": "'RX-B' || i",
        "patient_id": f"{first_patient} + {whose}".replace("k", "(i - 1)"),
        "preparation_id": f"{first_prep} + {whose}".replace("k", "(i - 1)"),
        "prescriber_name": "'Dr Bench'", "prescriber_npi": "'1234567893'",
        "prescriber_licence": "'MD-1'", "written_on": "current_date - 400",
        "start_on": "current_date - 400", "active_since": "current_date - 400",
        "times": """'[["morning", "08:00"], ["evening", "20:00"]]'::jsonb""",
        "area": "'face_and_neck'", "duration_days": "180", "refills_authorised": "5",
        "directions": "'Apply twice daily'", "status": "'completed'",
        "written_by_id": str(staff),
    })  # fmt: skip
    first_rx = _first(Prescription)
    k = f"((i - 1) % {made})"
    insert_series(Fill, FILLS, {
        "prescription_id": f"{first_rx} + {k}",
        "patient_id": f"{first_patient} + {whose}".replace("k", k),
        "batch_id": patient_batch.replace("k", k),
        "number": f"(i - 1) / {made}",
        "quantity_g": "30", "filled_on": "current_date - 300", "days_supply": "12",
        "supply_starts_on": "current_date - 300", "runs_out_on": "current_date - 288",
        "dispensed_by_id": str(staff),
    })  # fmt: skip
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")  # as autovacuum would have, over ten years
        weighings = Weighing.objects.count()
        # A lot that went into a stock batch midway through the ten years: its trace goes
        # through the batches made from that batch.
        c.execute(
            f"SELECT w.lot_id FROM {Weighing._meta.db_table} w WHERE w.batch_id = 25000 "  # noqa: S608
            "AND w.lot_id IS NOT NULL ORDER BY w.id LIMIT 1"
        )
        lot_id = c.fetchone()[0]
    return {"weighings": weighings, "lot_id": lot_id}


def _first(model) -> int:
    return model.objects.order_by("pk").values_list("pk", flat=True).first()


def _median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(repeat: int) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scarrx.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from scarrx.pharmacy import queries
    from scarrx.pharmacy.labels import render_label
    from scarrx.pharmacy.models import Batch, IngredientLot, LabelTemplate, Weighing

    call_command("migrate", verbosity=0)
    print("Building a synthetic ten-year pharmacy on PostgreSQL (not timed)...", flush=True)
    started = time.perf_counter()
    facts = build()
    print(f"  built in {time.perf_counter() - started:.0f} s: {facts['weighings']:,} weighings")
    lot = IngredientLot.objects.get(pk=facts["lot_id"])
    reach = queries.trace(lot=lot)
    table = Weighing._meta.db_table

    def count() -> None:
        with connection.cursor() as c:
            c.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            c.fetchone()

    trace_s = _median_time(lambda: queries.trace(lot=lot), repeat)
    count_s = _median_time(count, repeat)
    batch = Batch.objects.get(pk=reach.batch_ids[-1])
    batch.label_template = LabelTemplate.objects.first()
    label_s = _median_time(lambda: render_label(batch), max(3, repeat // 3))
    with connection.cursor() as c:
        c.execute(
            f"EXPLAIN (ANALYZE, BUFFERS) {queries.trace_sql()}", queries.trace_params(lot=lot)
        )
        plan = "\n".join(row[0] for row in c.fetchall())

    ratio = trace_s / count_s
    print(
        f"\nOne lot traced: {len(reach.batch_ids)} batches "
        f"({sum(1 for b in reach.batch_ids if b % 10 == 0)} stock), "
        f"{len(reach.patient_ids)} patients; median of {repeat} runs\n"
    )
    header = f"{'measurement':<46}{'median':>10}  target"
    print(header)
    print("-" * (len(header) + 24))
    print(f"{'SELECT count(*) over the weighings (baseline)':<46}{_ms(count_s):>10}  -")
    print(f"{'trace one lot to every patient (recall)':<46}{_ms(trace_s):>10}  <= 5 % of baseline")
    print(f"{'  as a share of the baseline':<46}{ratio * 100:>9.1f} %  "
          f"{'meets' if ratio <= TARGET else 'MISSES'}")  # fmt: skip
    print(f"{'render one label PDF (WeasyPrint + QR)':<46}{_ms(label_s):>10}  -")
    executed = next((line for line in plan.splitlines() if "Execution Time" in line), "")
    print(f"{'  of which the query itself (EXPLAIN ANALYZE)':<46}{executed.split(': ')[-1]:>10}")
    if ratio > TARGET or "Seq Scan on " + table in plan:
        print("\nThe trace's plan:\n" + plan)
    return 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


if __name__ == "__main__":
    sys.exit(main())
