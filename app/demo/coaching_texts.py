"""What the demo's coaching says: the goals, the 1:1 topics, notes and action items, the
Delegation Poker rounds and the thanks, in the voice of the demo organisation. How they are
loaded (through the services, dated back over a season): app/demo/coaching_samples.py."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import GoalStatus


@dataclass(frozen=True)
class GoalPlan:
    person: str
    competency: str
    change: str
    measure: str
    status: GoalStatus
    proposed_by: str  # who proposed it; the other of the two agrees (unless it awaits that)
    days_ago: int
    note: str = ""  # the outcome (done) or the reason (dropped)
    agreed: bool = True
    evidence: int = 0  # how many of the person's items are linked


GOALS = [
    GoalPlan(
        "Lena Fischer",
        "product-strategy",
        "Own the onboarding strategy for the whole Growth group, not only my squad: one "
        "narrative that the other squads plan their quarter from.",
        "The Q3 planning of all three Growth squads cites the onboarding narrative; Daniel no "
        "longer has to translate it for leadership.",
        GoalStatus.IN_PROGRESS,
        "Daniel Brandt",
        110,
        evidence=2,
    ),
    GoalPlan(
        "Lena Fischer",
        "coaching",
        "Coach Kwame to run discovery on his own: he plans, runs and synthesises the "
        "interviews, and I only review.",
        "Kwame runs a full interview round without me in the room, and the synthesis is used "
        "in a roadmap decision.",
        GoalStatus.DONE,
        "Lena Fischer",
        120,
        note="Kwame ran 9 interviews on the activation checklist alone in May; his synthesis "
        "led the squad to cut the tour step. I reviewed one draft, nothing more.",
        evidence=1,
    ),
    GoalPlan(
        "Kwame Mensah",
        "stakeholder-management",
        "Bring sales and support into the onboarding decisions before they are made, instead "
        "of briefing them after.",
        "Sales and support leads attend the monthly onboarding review and raise no surprise "
        "escalations in a quarter.",
        GoalStatus.IN_PROGRESS,
        "Kwame Mensah",
        95,
        evidence=1,
    ),
    GoalPlan(
        "Kwame Mensah",
        "experimentation",
        "Run the pricing-page experiments myself, end to end.",
        "Three pricing experiments shipped and read out by me in a quarter.",
        GoalStatus.DROPPED,
        "Daniel Brandt",
        100,
        note="Pricing moved to the Payments group in the reorganisation; Kwame will aim the same "
        "skill at the activation experiments instead.",
    ),
    GoalPlan(
        "Sofia Marquez",
        "customer-research",
        "Plan and run my own customer interviews, from recruiting to the write-up.",
        "Two interview rounds written up by me, each with a decision it changed.",
        GoalStatus.IN_PROGRESS,
        "Daniel Brandt",
        80,
        evidence=1,
    ),
    GoalPlan(
        "Sofia Marquez",
        "metrics-and-outcomes",
        "Define the success metric before each feature starts, and report on it after launch.",
        "Every feature I lead this half has a metric agreed at kickoff and a readout four weeks "
        "after launch.",
        GoalStatus.NOT_STARTED,
        "Daniel Brandt",
        45,
    ),
    GoalPlan(
        "Sofia Marquez",
        "stakeholder-management",
        "Run the weekly onboarding sync with design and engineering myself.",
        "The sync runs without Lena or Daniel for a month, with notes and decisions sent the "
        "same day.",
        GoalStatus.NOT_STARTED,
        "Sofia Marquez",
        6,
        agreed=False,
    ),
]


# Each round: (the person's pick, the manager's pick, the agreed level) relative to the row's
# expected level; the notes say why the two settled where they did.
ROUNDS = [
    [(0, -1, -1), (1, -1, 0), (0, 0, 0), (1, -1, 0)],
    [(1, 0, 1), (1, 1, 1), (1, 0, 0), (2, 1, 1)],
]


NOTES = {
    "above": "Lena takes this one further than the level expects: she has run it twice without "
    "a hitch.",
    "far": "We picked two levels apart; we settled on trying it for a quarter and looking again.",
    "at": "Agreed as the level expects; no reason to move it yet.",
    "below": "Not yet where the level expects: we look again after the next quarter's planning.",
}


EXTRA_ROWS = [
    "Which onboarding experiments run this quarter",
    "Hiring the next PM for the squad",
    "Saying no to a sales request for a custom flow",
]


@dataclass(frozen=True)
class Topic:
    by_member: bool
    text: str
    link: str = ""  # "c:<competency>", "goal" (the member's first goal), "board", "evidence"


@dataclass(frozen=True)
class Action:
    by_member: bool  # whose it is
    text: str
    due_in: int | None = None  # days after the meeting
    done_after: int | None = 1  # done by the meeting this many later; None: still open


@dataclass(frozen=True)
class Session:
    topics: tuple[Topic, ...]
    notes: str = ""
    lead_private: str = ""
    member_private: str = ""
    actions: tuple[Action, ...] = ()


LENA = [
    Session(
        (
            Topic(True, "Onboarding strategy: who owns the narrative across the squads?", "goal"),
            Topic(False, "Your read on the Q2 activation numbers"),
        ),
        "- Activation is flat at 38%; the drop is between sign-up and the first project.\n"
        "- Lena to draft a one-page onboarding narrative for the three squads.",
        "Lena is ready for a wider remit; watch that she does not take it all on alone.",
        "Ask for the leadership review slot next time.",
        (Action(True, "Draft the one-page onboarding narrative", 14, 1),),
    ),
    Session(
        (
            Topic(True, "Feedback on the narrative draft", "goal"),
            Topic(False, "Delegation Poker: where do we stand on the roadmap calls?", "board"),
        ),
        "- Daniel: the draft is strong; tighten the three bets and cut the appendix.\n"
        "- We play Delegation Poker next time to settle who decides what.",
        "",
        "He wants fewer words. Try the one-slide version.",
        (Action(False, "Introduce Lena to the finance lead for the Q3 forecast", 7, 1),),
    ),
    Session(
        (
            Topic(True, "Coaching Kwame on discovery", "c:coaching"),
            Topic(False, "Hiring plan for the second Growth PM"),
        ),
        "- Kwame plans the next interview round; Lena reviews only.\n"
        "- Hiring: Lena joins the panel for the PM role.",
        "Good instinct to step back from Kwame's interviews.",
        "",
    ),
    Session(
        (
            Topic(True, "The onboarding funnel retro", "evidence"),
            Topic(False, "Your goals: what to add for the GPM level"),
        ),
        "- The retro showed we shipped the checklist before we knew the job; lesson written up.\n"
        "- Lena writes up the retro for the whole team.",
        "The retro is the kind of thing a GPM does: make sure it reaches the other squads.",
        "Retro write-up keeps slipping; block Thursday morning for it.",
        (Action(True, "Write up the onboarding-funnel retro for the team", 10, None),),
    ),
    Session(
        (
            Topic(False, "Leadership review in June: do you want to present?"),
            Topic(True, "Board: I would like to own the experiment backlog", "board"),
        ),
        "- Lena presents the onboarding narrative at the June leadership review.\n"
        "- We look at the experiment backlog row in the next Poker round.",
        "",
        "",
        (Action(False, "Ask Maya for a slot at the June leadership review", 10, 2),),
    ),
    Session(
        (
            Topic(True, "Kwame ran the interviews alone", "c:coaching"),
            Topic(False, "Retro write-up: where is it?"),
        ),
        "- Kwame's synthesis led the squad to cut the tour step; the coaching goal is done.\n"
        "- The retro write-up is still open; Lena will send it this week.",
        "Second time the retro slipped. Offer to take something off her plate.",
        "",
    ),
    Session(
        (
            Topic(True, "Rehearsal of the leadership review deck", "goal"),
            Topic(False, "Second Delegation Poker round: how did it feel?", "board"),
        ),
        "- Deck: lead with the problem, not the roadmap.\n"
        "- Agreed levels went up on three rows; we revisit them in a quarter.",
        "",
        "Felt trusted. Keep the experiment backlog honest.",
        (Action(False, "Share the leadership review feedback with Lena", 30, None),),
    ),
    Session(
        (
            Topic(True, "How the leadership review went"),
            Topic(False, "Next step toward GPM: the other squads' planning", "goal"),
        ),
        "- Maya asked for the narrative to become the Growth strategy page.\n"
        "- Next: the other two squads plan Q3 from it.",
        "Ready for GPM conversations in the next cycle if Q3 planning lands.",
        "",
        (Action(True, "Turn the narrative into the Growth strategy page", 21, None),),
    ),
]


GENERIC = [
    Session(
        (
            Topic(True, "What I shipped since last time"),
            Topic(False, "Your growth plan: how is the goal going?", "goal"),
        ),
        "- Shipped on time; the readout is next week.\n- Goal on track.",
        "Steady; ask about workload next time.",
        "",
        (Action(True, "Send the launch readout to the squad", 7, 1),),
    ),
    Session(
        (
            Topic(False, "Feedback from the design review"),
            Topic(True, "I would like to present at the product forum", "c:communication"),
        ),
        "- Design review went well; one note on the empty states.\n"
        "- Product forum slot next month.",
        "",
        "Prepare the forum talk early.",
        (Action(False, "Book a product forum slot", 14, 1),),
    ),
    Session(
        (
            Topic(True, "Stuck on the sales escalation", "c:stakeholder-management"),
            Topic(False, "Hiring panel next week"),
        ),
        "- Agreed a reply to sales: the custom flow waits for the Q3 review.",
        "Handled the escalation calmly.",
        "",
        (Action(True, "Write the interview guide for the next round", 10, 2),),
    ),
    Session(
        (
            Topic(True, "Interview round: first results", "evidence"),
            Topic(False, "Time off in the summer"),
        ),
        "- Three patterns so far; synthesis next week.\n- Summer leave agreed.",
        "",
        "",
    ),
]


KWAME_MENTORING = [
    Session(
        (
            Topic(True, "How do you plan an interview round?", "c:customer-research"),
            Topic(False, "Reading for the month"),
        ),
        "- Start from the decision the research should change.\n"
        "- Lena shares her interview guide template.",
        "Kwame knows the mechanics; the gap is framing the decision first.",
        "",
        (Action(False, "Share my interview guide template", 7, 1),),
    ),
    Session(
        (Topic(True, "Bringing sales into the onboarding decisions", "goal"),),
        "- Invite the sales lead to the monthly onboarding review; send the agenda a week ahead.",
        "",
        "Sales lead said yes. Agenda a week ahead!",
    ),
    Session(
        (
            Topic(True, "I ran the interviews alone: what would you change?"),
            Topic(False, "Your synthesis: what decision does it change?"),
        ),
        "- Strong synthesis; the tour step goes.\n- Next: present it to the squad himself.",
        "He is ready to do this without me.",
        "",
    ),
    Session(
        (Topic(True, "Preparing for the GPM conversation one day", "c:product-strategy"),),
        "- Write the strategy for one area before asking for more scope.",
        "",
        "",
        (Action(True, "Draft the activation strategy page", 30, None),),
    ),
]


UPCOMING = (
    Topic(True, "Growth strategy page: first draft for review", "goal"),
    Topic(False, "Q3 planning with the other squads"),
)


THANKS = [
    (
        "Kwame Mensah",
        "Lena Fischer",
        50,
        "Thank you for the interview guide and for staying out "
        "of the room: it made the round mine.",
    ),
    (
        "Daniel Brandt",
        "Sofia Marquez",
        30,
        "Thanks for taking the sales escalation on yourself and closing it calmly in two days.",
    ),
    (
        "Sofia Marquez",
        "Ravi Patel",
        25,
        "Thanks for the honest note on my readout; the next one "
        "led with the patterns and it worked.",
    ),
    (
        "Lena Fischer",
        "Hannah Cole",
        12,
        "Thank you for covering the onboarding sync while I prepared the leadership review.",
    ),
    (
        "Priya Raman",
        "Lena Fischer",
        5,
        "Thanks for walking the Platform PMs through the "
        "onboarding narrative; we reuse the format for Q3.",
    ),
]
