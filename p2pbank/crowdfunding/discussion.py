"""Updates from the initiator (mailed to the backers) and comments from members (backers
marked as such).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.crowdfunding import content, notices
from p2pbank.crowdfunding.kernel import (
    can_see,
    check_text,
    get_user,
    load_campaign,
    own_campaign,
)
from p2pbank.crowdfunding.models import (
    CampaignUpdate,
    Comment,
    Pledge,
)
from p2pbank.crowdfunding.services import BACKER_STATUSES
from p2pbank.errors import InvalidState, NotFound, ValidationFailed
from p2pbank.uow import command


def post_update(
    session: Session,
    actor_id: int,
    campaign_id: int,
    *,
    title: str,
    body_md: str,
    visibility: str = "public",
) -> CampaignUpdate:
    """The initiator tells everyone (or only the backers) how it is going; backers are
    mailed."""
    with command(session):
        campaign = own_campaign(session, actor_id, campaign_id, lock=None)
        if campaign.is_draft:
            raise InvalidState("Launch the campaign before posting updates.")
        values = {"title": title, "body_md": body_md}
        errors: dict[str, list[str]] = {}
        check_text(values, "title", 3, 150, errors)
        check_text(values, "body_md", 1, content.UPDATE_MAX_CHARS, errors)
        if visibility not in ("public", "backers"):
            errors["visibility"] = ["Choose public or backers only."]
        if errors:
            raise ValidationFailed("The update needs attention.", field_errors=errors)
        update = CampaignUpdate(
            campaign_id=campaign.id,
            author_id=actor_id,
            title=values["title"],
            body_md=values["body_md"],
            body_html=content.render_markdown(values["body_md"]),
            visibility=visibility,
        )
        session.add(update)
        backer_ids = set(
            session.scalars(
                select(Pledge.backer_id).where(
                    Pledge.campaign_id == campaign.id, Pledge.status.in_(BACKER_STATUSES)
                )
            )
        )
        notices.update_posted(session, campaign, values["title"], values["body_md"], backer_ids)
        session.flush()
    return update


def is_backer(session: Session, campaign_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            select(Pledge.id)
            .where(
                Pledge.campaign_id == campaign_id,
                Pledge.backer_id == user_id,
                Pledge.status.in_(BACKER_STATUSES),
            )
            .limit(1)
        )
        is not None
    )


def post_comment(
    session: Session, actor_id: int, campaign_id: int, *, body: str, parent_id: int | None = None
) -> Comment:
    """Members talk with the initiator (the co-creation channel); replies are one level
    deep and the initiator's are marked."""
    with command(session):
        author = get_user(session, actor_id)
        campaign = load_campaign(session, campaign_id)
        if not can_see(campaign, author):
            raise NotFound("No such campaign.")
        if campaign.is_draft:
            raise InvalidState("Comments open when the campaign is launched.")
        values = {"body": body}
        errors: dict[str, list[str]] = {}
        check_text(values, "body", 1, 2000, errors)
        if errors:
            raise ValidationFailed("The comment needs attention.", field_errors=errors)
        if parent_id is not None:
            parent = session.get(Comment, parent_id)
            if parent is None or parent.campaign_id != campaign.id:
                raise ValidationFailed.on("parent_id", "That comment is not on this campaign.")
            if parent.parent_id is not None:
                parent_id = parent.parent_id  # replies stay one level deep
        comment = Comment(
            campaign_id=campaign.id,
            author_id=author.id,
            parent_id=parent_id,
            body=values["body"],
            by_initiator=author.id == campaign.initiator_id,
        )
        session.add(comment)
        session.flush()
    return comment
