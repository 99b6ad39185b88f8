"""`make bench` (after the photo bench): the treatment course at a large pharmacy's scale.

A throwaway PostgreSQL cluster (the machine's initdb and pg_ctl; as root they run as the
postgres user) is migrated and filled with set-based INSERT ... SELECT: 100,000 patients
on 180-day twice-daily courses (about 34 million logged applications: 95 % of the courses
complete, 5 % under way), 200,000 fills from 200,000 released batches with 400,000
weighings from 200 component lots, 400,000 follow-ups, a few thousand side effects (those
older than two weeks reviewed).
Then, in one run:

1. the baseline: a plain `SELECT count(*)` over the applications table (a full scan);
2. the worklist (every section, rows and counts) as the staff home page asks for it;
3. one patient's adherence: their 360 slots and logs, dose-level per week and overall,
   PDC from fills;
4. the daily recount of the course standings (the task the worker runs), for scale;
5. a recall of one component lot traced to every patient, through batches and fills;
6. requests per second of logging an application through the API against a bare
   authenticated JSON endpoint on the same gunicorn server, under loopback load.

Targets (issue 10): 2 and 3 each under 5 % of 1; 6 at least 70 %. Figures, not pass/fail.
Bulk loading runs with fsync off (a throwaway cluster); every measurement runs with
fsync and synchronous_commit back on.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from recall import insert_series  # noqa: E402 - the pharmacy bench's set-based insert

BIN = ROOT / ".venv" / "bin"
PATIENTS = 100_000
ACTIVE_SHARE = 0.05
LOGGING_PATIENTS = 4000  # active patients with a bearer token, for the HTTP load
LOTS = 200
TOKEN_PREFIX = "bench-token-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=PATIENTS)
    parser.add_argument("--seconds", type=float, default=10.0, help="per HTTP load run")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the cluster in this directory; run again, it is measured, not rebuilt",
    )
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="scarrx-course-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o755)
    with cluster(workdir) as url:
        env = {**os.environ, "DATABASE_URL": url, "SCARRX_DEBUG": "true"}
        os.environ.update(env)
        run([str(BIN / "scarrx"), "migrate", "-v", "0"], env)
        import django

        sys.path.insert(0, str(ROOT / "src"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scarrx.settings")
        django.setup()
        saved = workdir / "world.json"
        if saved.exists():  # a kept cluster, built before: measure the code as it is now
            world = json.loads(saved.read_text())
            print(f"measuring the synthetic pharmacy kept in {workdir}", flush=True)
            from scarrx.treatment.models import Application, Prescription

            # the last run's HTTP load logged through the API: undone, so this load's
            # logs of yesterday are accepted again (the synthetic logs came via the portal)
            sql(f"DELETE FROM {table(Application)} WHERE via = 'api'", None, "undo the last load")
            sql(f"UPDATE {table(Prescription)} SET recent_through = NULL", None, "its standings")
        else:
            started = time.perf_counter()
            world = build(args.patients)
            print(f"built the synthetic pharmacy in {time.perf_counter() - started:.0f} s")
            if args.keep:
                saved.write_text(json.dumps(world))
        durable(True)
        figures = measure(world)
        figures |= http_load(env, world, args.seconds)
        report(figures, world)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


# --- the cluster --------------------------------------------------------------------------


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True)
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def cluster(workdir: Path):
    pg = pg_bin()
    data = workdir / "pgdata"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    if not data.exists():
        subprocess.run(
            as_postgres(
                [
                    str(pg / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c shared_buffers=3GB -c work_mem=64MB "
        "-c maintenance_work_mem=1GB -c max_wal_size=16GB -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=100 -c jit=off"
    )
    subprocess.run(
        as_postgres(
            [
                str(pg / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(workdir / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "120",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        subprocess.run(
            [str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "scarrx"],
            check=False,
            stderr=subprocess.DEVNULL,
        )
        yield f"postgres://postgres@127.0.0.1:{port}/scarrx"
    finally:
        subprocess.run(
            as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )


def run(cmd, env) -> None:
    subprocess.run(cmd, env=env, check=True)


def durable(on: bool) -> None:
    """fsync and synchronous commits: off to load, on to measure."""
    from django.db import connection

    value = "on" if on else "off"
    with connection.cursor() as cur:
        cur.execute(f"ALTER SYSTEM SET fsync = {value}")
        cur.execute(f"ALTER SYSTEM SET synchronous_commit = {value}")
        cur.execute("SELECT pg_reload_conf()")
        cur.execute("CHECKPOINT")


# --- the synthetic pharmacy ---------------------------------------------------------------


def sql(statement: str, params=None, label: str = "") -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(statement, params)
    took = time.perf_counter() - started
    if label:
        print(f"  {label}: {took:.1f} s", flush=True)
    return took


def table(model) -> str:
    return model._meta.db_table


def build(n: int) -> dict:
    """The pharmacy, set-based. Django rows for the few things the services make (the
    cast, one approved MFR); INSERT ... SELECT over generate_series for the many."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from scarrx.accounts.models import ApiToken
    from scarrx.accounts.roles import sync_roles
    from scarrx.accounts.services import create_user
    from scarrx.patients.models import Patient
    from scarrx.pharmacy import services as pharmacy
    from scarrx.pharmacy.models import (
        Batch,
        BatchComponent,
        IngredientLot,
        Preparation,
        Weighing,
    )
    from scarrx.pharmacy.services import ComponentLine, StepLine
    from scarrx.treatment.models import (
        Application,
        Fill,
        FollowUp,
        Prescription,
        Review,
        SideEffect,
    )

    sync_roles()
    today = timezone.localdate()
    staff = {
        role: create_user(username=f"bench-{role}", role=role, password="x", check_password=False)
        for role in ("pharmacist", "technician", "prescriber")
    }
    approver = create_user(
        username="bench-approver", role="pharmacist", password="x", check_password=False
    )
    ph, tech = staff["pharmacist"], staff["technician"]
    base = pharmacy.add_ingredient(actor=ph, name="Silicone gel base", role="base")
    ptx = pharmacy.add_ingredient(
        actor=ph, name="Pentoxifylline", role="active", max_strength_percent=Decimal(1)
    )
    draft = pharmacy.draft_formulation(
        actor=ph,
        code="SIL-PTX",
        components=[ComponentLine(ptx, Decimal(1)), ComponentLine(base, None)],
        steps=[StepLine("Mix")],
        name="Pentoxifylline 1 % silicone gel",
        container_closure="pump",
        equipment="balance",
        description="gel",
        qc_specification="smooth",
    )
    mfr = pharmacy.approve_formulation(draft, actor=approver)
    balance = pharmacy.add_balance(
        actor=ph,
        name="B1",
        readability_g=Decimal("0.001"),
        minimum_weight_g=Decimal("0.02"),
        last_calibrated_on=today - timedelta(days=10),
    )
    durable(False)
    print(f"building {n:,} patients on 180-day twice-daily courses...", flush=True)
    active = int(n * ACTIVE_SHARE)
    sql(
        f"INSERT INTO {table(IngredientLot)} (public_id, ingredient_id, supplier, lot_number,"
        " expiry_date, received_on, received_g, on_hand_g, coa_reference, received_by_id)"
        " SELECT gen_random_uuid(), CASE WHEN mod(g, 2) = 0 THEN %s ELSE %s END, 'Bench', 'L' || g,"
        " %s::date + 700, %s::date - 400, 100000, 50000, '', %s FROM generate_series(1, %s) g",
        [base.pk, ptx.pk, today, today, tech.pk, LOTS],
        "lots",
    )
    # Patients through the recall bench's helper: every column, new ones included.
    insert_series(Patient, n, {
        "record_number": "'B-' || lpad(i::text, 7, '0')",
        "given_name": "'Pat'",
        "family_name": "'Bench' || i",
        "date_of_birth": "DATE '1990-01-01' + mod(i, 9000)",
        "sex": "'female'",
        "fitzpatrick": "1 + mod(i, 6)",
        "pregnancy_status": "'not_pregnant'",
        "acne_severity": "'severe'",
        "prescriber_id": f"CASE WHEN mod(i, 10) = 0 THEN {staff['prescriber'].pk} END",
    })  # fmt: skip
    sql(
        f"INSERT INTO {table(Preparation)} (public_id, patient_id, formulation_id, name,"
        " water_activity, preserved, differences, created_by_id, created_at)"
        f" SELECT gen_random_uuid(), p.id, %s, 'Pentoxifylline 1 %% gel', 'non_aqueous', false,"
        f" '', %s, now() FROM {table(Patient)} p",
        [mfr.pk, ph.pk],
        "preparations",
    )
    # Courses: 95 % finished (started 181 to 545 days ago), 5 % under way (1 to 150 days).
    sql(
        f"INSERT INTO {table(Prescription)} (public_id, rx_number, patient_id, preparation_id,"
        " prescriber_id, prescriber_name, prescriber_npi, prescriber_licence, written_on,"
        " start_on, times, sites, area, duration_days, refills_authorised, directions,"
        " follow_up_weeks, reassessment_before_refill, status, written_by_id, created_at,"
        " active_since, recent_scheduled, recent_applied)"
        " SELECT gen_random_uuid(), 'RX-B' || s.id, s.patient_id, s.id, %s, 'Dr Bench',"
        " '1234567893', 'MD-1', s.start - 2, s.start,"
        ' \'[["morning", "08:00"], ["evening", "20:00"]]\'::jsonb, \'["cheeks"]\'::jsonb,'
        " 'face_and_neck', 180, 1, 'Apply twice daily', '[4, 8, 12, 26]'::jsonb, false,"
        " CASE WHEN s.active THEN 'active' ELSE 'completed' END, %s, now(), s.start, 0, 0"
        " FROM (SELECT id, patient_id, id %% %s < %s AS active,"
        "   CASE WHEN id %% %s < %s THEN %s::date - 1 - ((id * 7919) %% 150)::int"
        "   ELSE %s::date - 181 - ((id * 7919) %% 365)::int END AS start"
        f"   FROM {table(Preparation)}) s",
        [
            staff["prescriber"].pk,
            ph.pk,
            100,
            int(ACTIVE_SHARE * 100),
            100,
            int(ACTIVE_SHARE * 100),
            today,
            today,
        ],
        "prescriptions",
    )
    sql(
        f"INSERT INTO {table(FollowUp)} (public_id, prescription_id, patient_id, week, timepoint,"
        " due_on)"
        " SELECT gen_random_uuid(), p.id, p.patient_id, w, 'week_' || w, p.start_on + 7 * w"
        f" FROM {table(Prescription)} p CROSS JOIN unnest(ARRAY[4, 8, 12, 26]) w",
        None,
        "follow-ups",
    )
    # Two batches a patient (90 days each, 225 g), each from one base and one active lot.
    sql(
        f"INSERT INTO {table(Batch)} (public_id, preparation_id, formulation_id, lot_number,"
        " dispensed_g, wastage_percent, batch_g, calculation, weighing_warnings, status,"
        " compounded_by_id, started_at, compounded_on, appearance, appearance_ok,"
        " yield_calculation, verified_by_id, verified_at, bud, bud_days, storage,"
        " bud_explanation, bud_reason, photo)"
        " SELECT gen_random_uuid(), p.preparation_id, %s, 'C' || p.id || '-' || k, 225, 0, 225,"
        " '', '[]'::jsonb, 'released', %s, (p.start_on + 88 * k - 1)::timestamp AT TIME ZONE 'UTC',"
        " p.start_on + 88 * k - 1, 'smooth', true, '', %s, (p.start_on + 88 * k)::timestamp"
        " AT TIME ZONE 'UTC', p.start_on + 88 * k + 178, 180, 'room temperature or refrigerator',"
        f" '180 days', '', '' FROM {table(Prescription)} p CROSS JOIN generate_series(0, 1) k",
        [mfr.pk, tech.pk, ph.pk],
        "batches",
    )
    sql(
        f"INSERT INTO {table(BatchComponent)} (batch_id, ingredient_id, strength_percent, target_g,"
        ' shown_g, calculation, "order")'
        " SELECT b.id, i.ingredient_id, i.strength, i.grams, i.grams, '', i.ord"
        f" FROM {table(Batch)} b CROSS JOIN (VALUES (%s, NULL::numeric, 222.75, 1),"
        " (%s, 1::numeric, 2.25, 0)) i(ingredient_id, strength, grams, ord)",
        [base.pk, ptx.pk],
        "batch components",
    )
    sql(
        f"INSERT INTO {table(Weighing)} (batch_id, component_id, lot_id, balance_id,"
        " balance_minimum_g, balance_calibrated_on, actual_g, deviation_percent,"
        " within_tolerance, check_text, is_current, weighed_by_id, weighed_at)"
        " SELECT c.batch_id, c.id, l.id, %s, 0.02, %s, c.target_g, 0, true, 'ok', true, %s, now()"
        f" FROM {table(BatchComponent)} c JOIN LATERAL (SELECT id FROM {table(IngredientLot)}"
        "   WHERE ingredient_id = c.ingredient_id ORDER BY id"
        "   OFFSET (c.batch_id %% (%s / 2)) LIMIT 1) l ON true",
        [balance.pk, today, tech.pk, LOTS],
        "weighings",
    )
    sql(
        f"INSERT INTO {table(Fill)} (public_id, prescription_id, patient_id, batch_id, number,"
        " quantity_g, filled_on, days_supply, supply_starts_on, runs_out_on, refill_due_on,"
        " dispensed_by_id, dispensed_at, verified_by_id, verified_at)"
        " SELECT gen_random_uuid(), p.id, p.patient_id, b.id, k, 225, p.start_on + 88 * k, 90,"
        " p.start_on + 90 * k, p.start_on + 90 * (k + 1), CASE WHEN k = 0 THEN p.start_on + 85 END,"
        " %s, (p.start_on + 88 * k)::timestamp AT TIME ZONE 'UTC', %s,"
        " (p.start_on + 88 * k)::timestamp AT TIME ZONE 'UTC'"
        f" FROM {table(Prescription)} p CROSS JOIN generate_series(0, 1) k"
        f" JOIN {table(Batch)} b ON b.lot_number = 'C' || p.id || '-' || k"
        " WHERE p.start_on + 88 * k <= %s",
        [tech.pk, ph.pk, today],
        "fills",
    )
    sql(
        f"UPDATE {table(Prescription)} p SET next_refill_due = p.start_on + 85"
        f" WHERE p.status = 'active' AND NOT EXISTS (SELECT 1 FROM {table(Fill)} f"
        "   WHERE f.prescription_id = p.id AND f.number = 1)",
        None,
        "refill dates",
    )
    # Applications: every slot of the course before today, 96 % logged (of which 4 %
    # skips); a course's logs stop three days ago for the patients the HTTP load uses.
    started = time.perf_counter()
    step = 10_000
    first, last = (
        Prescription.objects.order_by("pk").values_list("pk", flat=True).first(),
        Prescription.objects.order_by("-pk").values_list("pk", flat=True).first(),
    )
    for low in range(first, last + 1, step):
        sql(
            f"INSERT INTO {table(Application)} (prescription_id, key, slot_on, slot, applied_at,"
            " skipped, skip_reason, sites, note, recorded_by_id, recorded_at, via)"
            " SELECT p.id, gen_random_uuid(), p.start_on + d::int, s.name,"
            " ((p.start_on + d) + s.at)::timestamp AT TIME ZONE 'America/New_York'"
            "   + make_interval(mins => (hashint8(p.id * 400 + d * 2 + s.n) %% 90) - 30),"
            " r.x < 4, CASE WHEN r.x < 4 THEN 'forgot' ELSE '' END, '[]'::jsonb, '', %s, now(),"
            " 'portal'"
            f" FROM {table(Prescription)} p CROSS JOIN generate_series(0, 179) d"
            " CROSS JOIN (VALUES ('morning', time '08:00', 0), ('evening', time '20:00', 1))"
            "   s(name, at, n)"
            " CROSS JOIN LATERAL (SELECT abs(hashint8(p.id * 977 + d * 3 + s.n)) %% 100 AS x) r"
            " WHERE p.id >= %s AND p.id < %s AND r.x < 96"
            # active courses have logged up to the day before yesterday (the HTTP load logs
            # yesterday's); one in ten has logged nothing for five days (falling behind)
            "   AND p.start_on + d < %s::date"
            "     - CASE WHEN p.status <> 'active' THEN 0 WHEN p.id %% 10 = 0 THEN 5 ELSE 1 END",
            [ph.pk, low, low + step, today],
        )
        done = min(low + step - first, last - first + 1)
        print(
            f"\r  applications: {done:,} of {last - first + 1:,} courses,"
            f" {time.perf_counter() - started:.0f} s",
            end="",
            flush=True,
        )
    print(flush=True)
    sql(
        f"INSERT INTO {table(SideEffect)} (public_id, patient_id, prescription_id, fill_id,"
        " batch_id, kind, description, severity, onset_on, action, reported_by_id,"
        " reported_at, via)"
        " SELECT gen_random_uuid(), f.patient_id, f.prescription_id, f.id, f.batch_id,"
        " 'irritation', '', 'mild', f.filled_on + 10, 'continue', %s, now(), 'portal'"
        f" FROM {table(Fill)} f WHERE f.id %% 97 = 0",
        [ph.pk],
        "side effects",
    )
    sql(
        f"INSERT INTO {table(Review)} (side_effect_id, by_id, at, assessment, outcome,"
        " resolved_on, serious)"
        " SELECT s.id, %s, now(), 'Reviewed.', 'resolved', s.onset_on + 7, false"
        f" FROM {table(SideEffect)} s WHERE s.onset_on < %s::date - 14",
        [ph.pk, today],
        "reviews (of every report older than two weeks)",
    )
    sql("VACUUM (ANALYZE)", None, "vacuum and analyse")
    # The patients the HTTP load logs for: active courses, each with a bearer token.
    loggers = list(
        Prescription.objects.filter(status="active")
        .order_by("pk")
        .values_list("pk", "patient_id")[:LOGGING_PATIENTS]
    )
    from django.contrib.auth.models import Group

    from scarrx.accounts.models import User

    patient_group = Group.objects.get(name="patient")
    users = User.objects.bulk_create(
        User(username=f"bench-patient-{pid}", password="!") for _, pid in loggers
    )
    patient_group.user_set.add(*users)
    for user, (_, pid) in zip(users, loggers, strict=True):
        Patient.objects.filter(pk=pid).update(user=user)
    ApiToken.objects.bulk_create(
        ApiToken(
            user=u, name="bench", digest=ApiToken.digest_of(f"{TOKEN_PREFIX}{u.pk}"), prefix="bench"
        )
        for u in users
    )
    from scarrx.treatment.services import refresh_standings

    started = time.perf_counter()
    refreshed = refresh_standings()
    standings_s = time.perf_counter() - started
    print(f"  daily standings recount: {refreshed:,} active courses in {standings_s:.1f} s")
    rows = Application.objects.count()
    return {
        "patients": n,
        "active": active,
        "applications": rows,
        "users": [u.pk for u in users],
        "standings_s": standings_s,
        "standings_n": refreshed,
        "pharmacist": ph.pk,
        "lot": IngredientLot.objects.filter(ingredient=ptx).order_by("pk").first().pk,
        "fills": Fill.objects.count(),
        "weighings": Weighing.objects.count(),
        "batches": Batch.objects.count(),
    }


# --- measurements -------------------------------------------------------------------------


def timed(fn, repeat: int = 7) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def measure(world: dict) -> dict:
    from django.db import connection

    from scarrx.accounts.models import User
    from scarrx.pharmacy import queries as pharmacy_queries
    from scarrx.pharmacy.models import IngredientLot
    from scarrx.treatment import queries
    from scarrx.treatment.models import Prescription

    def count():
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM treatment_application")
            cur.fetchone()

    pharmacist = User.objects.get(pk=world["pharmacist"])

    def worklist():
        for section in queries.worklist(pharmacist):
            list(section.rows)
            assert section.count >= 0

    rx = Prescription.objects.filter(status="completed").select_related("patient").first()

    def one_patient():
        fresh = Prescription.objects.select_related("patient").get(pk=rx.pk)
        figures = queries.course(fresh)
        assert figures.dose.overall.scheduled == 360

    lot = IngredientLot.objects.get(pk=world["lot"])

    def recall_trace():
        reach = pharmacy_queries.trace(lot=lot)
        assert reach.patient_ids

    def count_weighings():
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pharmacy_weighing")
            cur.fetchone()

    sections = {s.key: s.count for s in queries.worklist(pharmacist)}
    reach = pharmacy_queries.trace(lot=lot)
    return {
        "count_s": timed(count, 5),
        "worklist_s": timed(worklist),
        "patient_s": timed(one_patient),
        "recall_s": timed(recall_trace),
        "weighings_count_s": timed(count_weighings),
        "sections": sections,
        "reach": (len(reach.batch_ids), len(reach.patient_ids)),
    }


# --- HTTP under loopback load -------------------------------------------------------------


def _client(port: int, path: str, method: str, tokens: list[str], seconds: float, out, index, step):
    """One load process: its own keep-alive connection, requests until time is up (the
    processes take the tokens in turn: each patient's morning, then each one's evening)."""
    import datetime as dt
    import uuid as uuidlib

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = errors = 0
    end = time.perf_counter() + seconds
    from zoneinfo import ZoneInfo

    yesterday = dt.datetime.now(ZoneInfo("America/New_York")).date() - dt.timedelta(days=1)
    n = index
    while time.perf_counter() < end:
        token = tokens[n % len(tokens)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = None
        if method == "POST":
            slot = "morning" if (n // len(tokens)) % 2 == 0 else "evening"
            clock = "08:10:00" if slot == "morning" else "20:10:00"
            body = json.dumps(
                {
                    "key": str(uuidlib.uuid4()),
                    "slot": slot,
                    "applied_at": f"{yesterday}T{clock}-05:00",
                }
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 400:
                errors += 1
            done += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n += step
    out.put((done, errors))


def load(port: int, path: str, method: str, tokens: list[str], seconds: float, clients: int):
    queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=_client, args=(port, path, method, tokens, seconds, queue, i, clients)
        )
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return done / seconds, errors


def http_load(env: dict, world: dict, seconds: float) -> dict:
    port = free_port()
    workers = 4
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "scarrx.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env={
            **env,
            "SCARRX_DEBUG": "false",
            "SCARRX_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "SCARRX_ALLOWED_HOSTS": "127.0.0.1",
            "SCARRX_SSL_REDIRECT": "false",
            "PYTHONPATH": str(ROOT / "src"),
        },
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.2)
        tokens = [f"{TOKEN_PREFIX}{pk}" for pk in world["users"]]
        clients = 4
        load(port, "/api/v1/portal/session", "GET", tokens, 2, clients)  # warm every worker
        bare, bare_errors = load(port, "/api/v1/portal/session", "GET", tokens, seconds, clients)
        logging, log_errors = load(
            port, "/api/v1/portal/applications", "POST", tokens, seconds, clients
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "bare_rps": bare,
        "bare_errors": bare_errors,
        "log_rps": logging,
        "log_errors": log_errors,
        "server": f"gunicorn, {workers} processes x 4 threads; {clients} load processes",
    }


def report(f: dict, world: dict) -> None:
    base = f["count_s"]

    def share(x):
        return f"{100 * x / base:.2f} % of the baseline"

    print()
    print(
        f"Synthetic pharmacy: {world['patients']:,} patients, {world['applications']:,} "
        f"applications, {world['fills']:,} fills, {world['batches']:,} batches, "
        f"{world['weighings']:,} weighings"
    )
    print(f"  baseline SELECT count(*) over applications   {base * 1000:9.1f} ms")
    print(
        f"  worklist (all sections, rows and counts)     {f['worklist_s'] * 1000:9.1f} ms"
        f"   {share(f['worklist_s'])}  (target < 5 %)"
    )
    print(
        f"  one patient's adherence (360 slots, PDC)     {f['patient_s'] * 1000:9.1f} ms"
        f"   {share(f['patient_s'])}  (target < 5 %)"
    )
    print(f"  worklist counts: {f['sections']}")
    print(
        f"  daily standings recount ({world['standings_n']:,} active)  "
        f"{world['standings_s']:9.1f} s"
    )
    batches, patients = f["reach"]
    print(
        f"  recall of one lot through batches and fills {f['recall_s'] * 1000:9.1f} ms"
        f"   ({batches:,} batches, {patients:,} patients; count(*) over weighings "
        f"{f['weighings_count_s'] * 1000:.1f} ms)"
    )
    ratio = f["log_rps"] / f["bare_rps"] if f["bare_rps"] else 0
    print(f"  HTTP ({f['server']}):")
    print(
        f"    bare authenticated JSON endpoint            {f['bare_rps']:9.0f} req/s"
        f"  ({f['bare_errors']} errors)"
    )
    print(
        f"    log an application                          {f['log_rps']:9.0f} req/s"
        f"  ({f['log_errors']} errors)  {100 * ratio:.0f} % of bare (target >= 70 %)"
    )
    # What a pharmacy this size needs: every patient on a course logging a morning's
    # application within the same hour.
    peak = world["patients"] / 3600
    print(
        f"    if all {world['patients']:,} patients logged in the same hour  {peak:9.0f} req/s"
        f"  (the server logs {f['log_rps'] / peak:.1f}x that)"
    )
    digest = hashlib.sha256(json.dumps(f, default=str).encode()).hexdigest()[:8]
    print(f"  (run {digest})")


if __name__ == "__main__":
    sys.exit(main())
