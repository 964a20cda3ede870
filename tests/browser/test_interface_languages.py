"""The newest interface languages in a real browser: Pashto, Dari and Arabic, right to left.

One short journey per language, on a phone with JavaScript off: a member chooses the
language from the menu on the home page, signs in with a codename, reads the room's draft
in that language, proposes wording (preview, then submit), and reads a statement published
in that language. A fourth run reads statements in Burmese, Thai and Bengali, whose
scripts the pages must draw with the site's own fonts where the device has none (the
screenshots in build/screenshots/ show it; this machine's Chromium has no such font). Every page is
checked as in the main journey: axe-core at zero violations, under 100 KB, no foreign
request, the right lang and dir.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import app_today, endorse, join_room, open_signon, publish_room, staff_identity

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Statement:
    """A room's words in one language, and what a member proposes in it."""

    language: str
    slug: str
    title: str
    draft: str
    proposal: str


STATEMENTS = {
    "ps": Statement(
        "ps",
        "da-kar-haq",
        "د کار حق",
        "# د کار د حق په اړه ګډه اعلامیه\n\nپه سیمه کې کډوال د کار له حق څخه بې برخې دي.\n\n"
        "له حکومتونو غواړو چې ژر تر ژره د کار جوازونه ورکړي.\n",
        "ډېر کډوال د کار په ځای کې نیول کېږي؛ دا باید ودرېږي.",
    ),
    "prs": Statement(
        "prs",
        "haq-e-kar-dari",
        "حق کار",
        "# اعلامیهٔ مشترک دربارهٔ حق کار\n\nپناهندگان در منطقه از حق کار محروم اند.\n\n"
        "از حکومت‌ها می‌خواهیم بی‌درنگ جواز کار صادر کنند.\n",
        "بسیاری از پناهندگان در محل کار بازداشت می‌شوند؛ این باید متوقف شود.",
    ),
    "ar": Statement(
        "ar",
        "haq-al-amal",
        "الحق في العمل",
        "# بيان مشترك بشأن الحق في العمل\n\nيُحرم اللاجئون في المنطقة من الحق في العمل.\n\n"
        "ندعو الحكومات إلى منح تصاريح العمل دون تأخير.\n",
        "يُعتقل كثير من اللاجئين في أماكن عملهم؛ ويجب أن يتوقف ذلك.",
    ),
    # Read only, in the scripts run.
    "my": Statement(
        "my",
        "alote-lote-khwint",
        "အလုပ်လုပ်ကိုင်ခွင့်",
        "# အလုပ်လုပ်ကိုင်ခွင့်ဆိုင်ရာ ပူးတွဲကြေညာချက်\n\nဒေသအတွင်းရှိ ဒုက္ခသည်များသည် အလုပ်လုပ်ကိုင်ခွင့် မရရှိကြပါ။\n",
        "",
    ),
    "th": Statement(
        "th",
        "sitthi-nai-kan-tham-ngan",
        "สิทธิในการทำงาน",
        "# แถลงการณ์ร่วมว่าด้วยสิทธิในการทำงาน\n\nผู้ลี้ภัยในภูมิภาคถูกปฏิเสธสิทธิในการทำงาน\n",
        "",
    ),
    "bn": Statement(
        "bn",
        "kajer-odhikar",
        "কাজের অধিকার",
        "# কাজের অধিকার বিষয়ে যৌথ বিবৃতি\n\nএই অঞ্চলের শরণার্থীরা কাজের অধিকার থেকে বঞ্চিত।\n",
        "",
    ),
}
MODES = [Mode(language, javascript=False, language=language) for language in ("ps", "prs", "ar")]


def seed(live: LiveApp, languages: tuple[str, ...]) -> tuple[str, str]:
    """A published statement in each language, and an open room in the first with a
    member; returns that room's id and the member's codename."""
    database: Database = live.app.extensions["db"]
    today = app_today()
    with database.sessionmaker() as session:
        coordinator = staff_identity(live.app, session)
        rooms = {}
        for language in languages:
            words = STATEMENTS[language]
            rooms[language] = drafting.create_room(
                session,
                coordinator,
                drafting.RoomInput(
                    title=words.title,
                    language=language,
                    summary="",
                    markdown=words.draft,
                    contribution_deadline=today + timedelta(days=14),
                    signon_deadline=today + timedelta(days=28),
                    moderation="post",
                ),
                today,
            ).id
        account, codename, keys = auth.create_member(session, live.app.extensions["auth"])
        member = auth.Identity(account, keys, session_id_hash=b"", session_key=b"")
        for language in languages:
            join_room(session, coordinator, rooms[language], member)
            open_signon(session, coordinator, rooms[language])
            endorse(session, rooms[language], member, "public", "Refugee Rights Network")
            publish_room(session, coordinator, rooms[language], STATEMENTS[language].slug)
        # The member's room for the journey: one more, still drafting.
        words = STATEMENTS[languages[0]]
        room = drafting.create_room(
            session,
            coordinator,
            drafting.RoomInput(
                title=words.title,
                language=languages[0],
                summary="",
                markdown=words.draft,
                contribution_deadline=today + timedelta(days=14),
                signon_deadline=today + timedelta(days=28),
                moderation="post",
            ),
            today,
        )
        join_room(session, coordinator, room.id, member)
        session.commit()
    return room.id, codename


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_a_member_in_their_language(
    mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp
) -> None:
    room_id, codename = seed(live_app, (mode.language,))
    words = STATEMENTS[mode.language]
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        # The Pashto reader picks the language from the menu; the others' browsers ask for it.
        member = journey.person(
            "member", PHONE, language_by="menu" if mode.name == "ps" else "header"
        )
        member.open("/", "home")
        member.choose_language()
        sign_in(member, codename)
        member.open(f"/rooms/{room_id}", "room")
        assert words.title in " ".join(member.main("h1").all_inner_texts())
        propose(member, words.proposal)
        member.open(f"/statements/{words.slug}", "statement")
        statement = member.main("article.statement")
        assert statement.get_attribute("lang") == mode.language
        assert statement.get_attribute("dir") == "rtl"
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, f"run {mode.name}:\n{journey.report()}"


def sign_in(member: Person, codename: str) -> None:
    """Sign in with the codename, as written down."""
    member.open("/login", "sign-in")
    form = member.main('form[method="post"]:has([name="codename"])')
    form.locator('[name="codename"]').fill(codename)
    member.follow(form.locator('[type="submit"]'), "signed-in")
    assert member.page.locator('form[action="/logout"]').count() == 1, "not signed in"


def propose(member: Person, text: str) -> None:
    """Comment on the whole draft in the member's language: preview, then submit."""
    member.follow(member.main('a[href*="/contribute"]').first, "contribute")
    form = member.main('form[method="post"]:has([name="text"])')
    form.locator('[name="text"]').fill(text)
    member.follow(form.locator('button[name="preview"]'), "preview")
    assert text in member.main(".preview").inner_text()
    form = member.main('form[method="post"]:has([name="text"])')
    member.follow(form.locator('button[name="submit"]'), "proposed")
    assert member.main("article.contribution").filter(has_text=text).count() == 1


def test_statements_in_every_script(browser: Browser, axe_source: str, live_app: LiveApp) -> None:
    languages = ("my", "th", "bn")  # Pashto's and Arabic's are read in their own journeys
    seed(live_app, languages)
    journey = Journey(browser, Mode("scripts", False, "en"), live_app.base_url, axe_source)
    try:
        reader = journey.person("reader", PHONE)
        fetched: list[str] = []
        reader.context.on("request", lambda request: fetched.append(request.url))
        for language in languages:
            words = STATEMENTS[language]
            reader.open(f"/statements/{words.slug}", f"statement-{language}")
            statement = reader.main("article.statement")
            assert statement.get_attribute("lang") == language
            assert words.title in statement.inner_text()
        # Burmese is always drawn with the site's Unicode font, never a device's Zawgyi one
        # (the other scripts' fonts are fetched only where the device has none).
        assert any(url.endswith("/static/fonts/NotoSansMyanmar-Regular.ttf") for url in fetched)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, f"run scripts:\n{journey.report()}"
