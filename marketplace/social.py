"""The marketplace's notification kinds (found by peerhub's AppConfig). Every order event goes
to the buyer and the seller (never to whoever caused it) and is e-mailed at once by default.
Wiring one: notify("order_paid", [order.buyer, order.seller], actor=..., target=order)."""

from peerhub.notifications import register_kind

ORDER_KINDS = {
    "order_paid": ("An order was paid", "Order “{target}” was paid"),
    "order_started": ("Work on an order started", "Work on order “{target}” started"),
    "order_delivered": ("An order was delivered", "Order “{target}” was delivered"),
    "order_completed": ("An order was completed", "Order “{target}” is completed"),
    "order_cancelled": ("An order was cancelled", "Order “{target}” was cancelled"),
    "order_declined": ("An order was declined", "Order “{target}” was declined"),
    "order_disputed": ("An order was disputed", "Order “{target}” is disputed"),
    "order_resolved": ("A dispute was resolved", "The dispute on order “{target}” is resolved"),
    "order_refunded": ("An order was refunded", "Order “{target}” was refunded"),
    "order_message": ("A message about an order", "{actor} wrote about order “{target}”"),
}

for name, (label, text) in ORDER_KINDS.items():
    register_kind(name, label=label, text=text, important=True)
