"""Gunicorn's threaded worker, with a shutdown that leaves no connection unanswered.

On SIGTERM gunicorn's master closes its listening socket, but every worker holds a copy of it
until the worker exits, up to --graceful-timeout later. Meanwhile the kernel keeps completing
handshakes and queueing connections nobody will accept; clients send their requests on them and
get a reset when the last copy closes (measured by scripts/check_graceful.py: a few failed
requests per SIGTERM under load). A stopping worker here takes what is already queued, serves
it, and closes its copy at once, so a client arriving later is refused before it sends anything
and a load balancer can send it elsewhere.
"""

import errno

from gunicorn.workers.gthread import TConn
from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker


class ThreadWorker(GunicornThreadWorker):
    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if enabled or self.alive:
            return  # paused at the connection limit, not stopping
        for listener in self.sockets:
            if listener.sock is not None:  # gunicorn's wrapper drops it once closed
                self._accept_queued(listener)
                listener.close()

    def _accept_queued(self, listener) -> None:
        # The listener is non-blocking (the event loop's); accept until the queue is empty.
        while True:
            try:
                client_sock, client_addr = listener.accept()
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                if error.errno == errno.ECONNABORTED:
                    continue
                raise
            self.nr_conns += 1
            client_sock.setblocking(True)
            self.enqueue_req(TConn(self.cfg, client_sock, client_addr, listener.getsockname()))
