"""Many open tabs (issue 11, item 4): a closed tab's page is freed by reference counting the moment
NiceGUI deletes it, without waiting for a full garbage collection (glrc_ui/runtime.py release_page)."""
import asyncio
import gc
import weakref

from nicegui import Client
from nicegui.testing import User


async def test_a_deleted_page_is_freed_without_the_garbage_collector(user: User):
    await user.open('/login')
    client = user.client
    assert client is not None
    client_id = client.id
    elements = list(client.elements.values())
    assert len(elements) > 20
    refs = [weakref.ref(element) for element in elements]
    props = [weakref.ref(element._props) for element in elements]
    del elements
    gc.disable()
    try:
        client.delete()
        user.client = None   # the page is gone (as after a closed tab): nothing holds it any more
        del client
        await asyncio.sleep(0)   # release_page cuts the cycles right after NiceGUI's deletion
        await asyncio.sleep(0)
        alive = [r() for r in refs if r() is not None]
        # without the cut every element waits for the collector; what is left is held by the Client
        # object's own cycles (its layout, page container and content)
        assert len(alive) <= len(refs) // 5, f'{len(alive)} of {len(refs)} elements wait for the collector'
        assert sum(p() is not None for p in props) <= len(props) // 5
    finally:
        gc.enable()
    assert client_id not in Client.instances

