"""The review history timeline (every stage, reviewer, organisation, opinion and time)."""
from nicegui import ui


def timeline(history: list[dict]) -> None:
    if not history:
        ui.label('暂无审核记录').classes('text-grey-9')
        return
    with ui.timeline(side='right').props('color=red-9 layout=dense').classes('w-full'):
        for h in history:
            who = ' · '.join(x for x in (h['org'], h['actor']) if x)
            with ui.timeline_entry(title=f'{h["action_label"]}：{h["from"]} → {h["to"]}', subtitle=f'{h["at"]}  {who}'):
                if h['opinion']:
                    ui.label(f'{h.get("opinion_label", "审核意见")}：{h["opinion"]}').classes('whitespace-pre-wrap')
