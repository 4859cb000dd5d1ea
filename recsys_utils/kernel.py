"""The local Jupyter kernel that :mod:`recsys_utils.course` runs notebooks in (papermill's kernel manager)."""
from __future__ import annotations

import os

__all__ = ["kernel_manager_class"]


def kernel_manager_class():
    """A kernel manager that talks to its local kernel over Unix-domain sockets (IPC) where the OS has them.

    Over TCP without CurveZMQ keys every kernel logs "Kernel is running over TCP without
    encryption" once per notebook; a local kernel needs no network port at all, and over
    IPC there is nothing to warn about. Windows has no IPC transport: TCP stays.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "tcp" if os.name == "nt" else "ipc"

        @default("ip")
        def _default_ip(self):
            # the sockets' path prefix; jupyter_client's default, "kernel-ipc", would put them in the
            # notebook's folder (and leave them there if a kernel dies): keep them in a private temp folder
            if self.transport != "ipc":
                return super()._ip_default()
            import tempfile

            return os.path.join(tempfile.mkdtemp(prefix="recsys-kernel-"), "kernel-ipc")

        async def _async_cleanup_resources(self, restart=False):
            await super()._async_cleanup_resources(restart=restart)
            folder = os.path.dirname(self.ip)
            if not restart and self.transport == "ipc" and os.path.basename(folder).startswith("recsys-kernel-"):
                try:
                    os.rmdir(folder)  # empty once the sockets are gone; left alone otherwise
                except OSError:
                    pass

    return IPCKernelManager
