"""``madoguchi demo``: one sample application walked end to end, each step printed."""

from pathlib import Path

import click

from engine.cli.context import CliContext, pass_cli
from engine.cli.demo_applicants import add_demo_applicants

DEMO_USERS = {
    "tanaka": ["seikatsu-eisei"],             # 生活衛生課 担当
    "suzuki": ["seikatsu-eisei-kakaricho"],   # 生活衛生課 係長
    "admin": ["admin"],                       # システム管理者
    "takahashi": ["shimin-madoguchi"],        # 市民課 窓口担当（住民票の写し: 審査・起案）
    "kobayashi": ["shimin-kacho"],            # 市民課長（住民票の写し: 専決）
    "watanabe": ["shoko-shinko"],             # 商工振興課 担当（補助金: 受付審査・起案）
    "matsumoto": ["shoko-kacho"],             # 商工振興課長（補助金: 回議、100万円以下は専決）
    "yoshida": ["keizai-bucho"],              # 経済部長（補助金: 1,000万円以下は専決）
    "yamamoto": ["fukushicho"],               # 副市長（補助金: 1,000万円超の決裁）
    "kimura": ["zaisei"],                     # 財政課（補助金: 合議）
    "ishikawa": ["kosodate-shien"],           # 子育て支援課 担当（児童手当: 審査・起案）
    "ogawa": ["kosodate-kakaricho"],          # 子育て支援課 係長（児童手当: 回議）
    "fujita": ["kosodate-kacho"],             # 子育て支援課長（児童手当: 専決）
}
#: The demo users' password for the web UI (a demo instance only: never use it elsewhere).
DEMO_PASSWORD = "madoguchi-demo"
SAMPLE_KEY = "dog-registration"
SAMPLE_DATA = {"applicant": {"name": "山田 花子", "address": "本町1-2-3"}, "dog_name": "ポチ", "kind": "new"}


def _say(text: str) -> None:
    click.echo(click.style("▶ ", fg="cyan") + text)


@click.command("demo")
@click.option("--workflows", type=click.Path(path_type=Path), default=Path("workflows"), show_default=True,
              help="Where the sample procedures are.")
@pass_cli
def demo(cli: CliContext, workflows: Path) -> None:
    """Walk one sample application from submission to its end, printing each step."""
    engine, db = cli.engine, cli.database
    engine.upgrade_database()
    with db.transaction() as session:
        for name, groups in DEMO_USERS.items():
            engine.add_user(session, name, groups=groups, password=DEMO_PASSWORD)
        applicants = add_demo_applicants(engine, session, DEMO_PASSWORD)
        if not any(d.key == SAMPLE_KEY for d in engine.definitions(session)):
            engine.deploy(session, workflows / SAMPLE_KEY)
    _say("demo users: " + ", ".join(f"{n} ({', '.join(g)})" for n, g in DEMO_USERS.items())
         + f" — web sign-in password: {DEMO_PASSWORD}")
    _say("demo applicants (portal /account/sign-in, same password): " + ", ".join(applicants))

    with db.transaction() as session:
        started = engine.start_for_applicant(session, SAMPLE_KEY, applicants["yamada@example.jp"], SAMPLE_DATA)
        application_id = started.application.id
        _say(f"山田 花子 applies for 犬の登録: application {application_id}, reference "
             f"{started.application.reference}, status {started.application.status}")
        review = started.opened_tasks[0]
        _say(f"the decision table set the fee; task '{review.name}' waits for group "
             f"{', '.join(review.candidate_groups)} (due {review.due_at:%Y-%m-%d})")

    with db.transaction() as session:
        listed = engine.tasks(session, user="tanaka")
        _say(f"tanaka's task list: {[t.name for t in listed]}")
        engine.claim(session, review.id, actor="tanaka")
        _say("tanaka claims the review")
    with db.transaction() as session:
        result = engine.complete(session, review.id, actor="tanaka",
                                 data={"decision": "approve", "comment": "書類に不備なし"})
        approval = result.opened_tasks[0]
        _say(f"tanaka approves the review; '{approval.name}' goes to {', '.join(approval.candidate_groups)}")
    with db.transaction() as session:
        result = engine.complete(session, approval.id, actor="suzuki", data={"approved": True})
        _say(f"suzuki decides (専決): application is now {result.application.status}")
    with db.transaction() as session:
        view = engine.show(session, application_id).as_dict()
        _say(f"result data: fee={view['data'].get('fee')}, registration_number="
             f"{view['data'].get('registration_number')}")
        _say("history: " + " → ".join(e["action"] for e in view["history"]))
        findings = engine.verify_audit(session)
    _say("audit trail intact" if not findings else f"audit problems: {findings}")
    click.echo(f"\nTry it yourself: madoguchi start {SAMPLE_KEY} --data '{{\"dog_name\": \"ハチ\", \"kind\": \"new\"}}'"
               " --as you, then madoguchi tasks --user tanaka")


COMMANDS = [demo]
