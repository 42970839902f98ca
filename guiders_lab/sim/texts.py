"""Chat message text for the Guiders simulator, in Spanish (Spain) and English.

The scenario engine needs chat text that reads like real support chats on an online sports shop
(running shoes, sportswear, fitness gadgets, "plan Premium" subscriptions). Every function takes
the caller's ``random.Random`` and uses nothing else, so a seeded simulation replays exactly the
same conversation. Templates are grouped by language, department and mood, and each one is kept
unambiguous in sentiment (neutral questions, clear complaints, clearly happy messages), because
the generated chats double as a labelled set for evaluating sentiment and escalation scorers.

Unknown languages fall back to ``"es"``, unknown departments to ``"support"``, unknown moods to
``"neutral"``, and anger levels are clamped to 1..3.
"""

from __future__ import annotations

import random
import re

DEPARTMENTS: tuple[str, ...] = ("sales", "support", "billing", "technical")
LANGUAGES: tuple[str, ...] = ("es", "en")
MOODS: tuple[str, ...] = ("neutral", "complaint", "positive")


def _words(text: str) -> tuple[str, ...]:
    """Split a compact comma-separated word list (keeps the data tables short)."""
    return tuple(word.strip() for word in text.split(","))


# --------------------------------------------------------------------------- names

_FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "es": _words(
        "Marta, Lucía, Javier, Carlos, Laura, Sergio, Paula, Alejandro, Elena, David, "
        "Carmen, Pablo, Sara, Daniel, Irene, Miguel, Cristina, Álvaro, Andrea, Jorge, Nuria, "
        "Raúl, Beatriz, Adrián, Rocío, Diego, Silvia, Manuel, Alba, Rubén, Patricia, Iván, "
        "Marina, Óscar, Eva, Hugo, Natalia, Víctor, Claudia, Fernando, Inés, Gonzalo, "
        "Teresa, Mario, Julia, Antonio"
    ),
    "en": _words(
        "Emma, Olivia, James, Oliver, Sophie, Jack, Emily, Harry, Charlotte, George, Amelia, "
        "Thomas, Grace, William, Chloe, Daniel, Hannah, Michael, Jessica, Ryan, Lauren, "
        "Matthew, Megan, Ethan, Rachel, Liam, Sarah, Noah, Katie, Lucas, Ashley, Tyler, "
        "Madison, Jacob, Abigail, Nathan, Zoe, Connor, Ellie, Samuel, Lily, Ben"
    ),
}

_SURNAMES: dict[str, tuple[str, ...]] = {
    "es": _words(
        "García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, "
        "Martín, Jiménez, Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, "
        "Gutiérrez, Navarro, Torres, Domínguez, Vázquez, Ramos, Gil, Ramírez, Serrano, "
        "Blanco, Molina, Morales, Ortega, Delgado, Castro, Ortiz, Rubio, Marín, Sanz, "
        "Iglesias, Núñez, Medina, Garrido"
    ),
    "en": _words(
        "Smith, Johnson, Williams, Brown, Jones, Taylor, Davies, Wilson, Evans, Thomas, "
        "Roberts, Walker, Wright, Thompson, White, Hughes, Edwards, Green, Hall, Wood, "
        "Harris, Clarke, Jackson, Miller, Davis, Anderson, Martin, Moore, Lee, Clark, Lewis, "
        "Young, Allen, King, Baker, Carter"
    ),
}

# --------------------------------------------------------------------------- slot vocabulary

# Spanish products/gadgets are all masculine singular so templates can say "el {product}".
_VOCAB: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "product": _words(
            "modelo Trail X3, modelo Road Runner 5, chubasquero Storm, cortavientos Aero, "
            "chándal Urban, pantalón corto Sprint, top deportivo Core, maillot Vento, "
            "chaleco de hidratación Ultra, forro polar Summit"
        ),
        "gadget": _words(
            "reloj GPS Pulse 2, reloj Pulse Lite, pulsómetro HR Pro, monitor de actividad Step, "
            "sensor de sueño Rest"
        ),
        "size": _words("38, 39, 40, 42, 43, 44, S, M, L, XL"),
        "plan": _words("Premium, Básico, Pro, Familiar"),
        "city": _words(
            "Madrid, Valencia, Sevilla, Bilbao, Zaragoza, Málaga, A Coruña, Murcia, Palma, "
            "Valladolid"
        ),
    },
    "en": {
        "product": _words(
            "Trail X3, Road Runner 5, Storm rain jacket, Aero windbreaker, Urban tracksuit, "
            "Core sports bra, Vento cycling jersey, Ultra hydration vest, Summit fleece, "
            "Sprint running top"
        ),
        "gadget": _words(
            "Pulse 2 GPS watch, Pulse Lite watch, HR Pro heart rate strap, Step fitness tracker, "
            "Rest sleep tracker"
        ),
        "size": _words("7, 8, 8.5, 9, 10, 11, S, M, L, XL"),
        "plan": _words("Premium, Basic, Pro, Family"),
        "city": _words(
            "London, Manchester, Leeds, Bristol, Chicago, Denver, Austin, Boston, Seattle, Dublin"
        ),
    },
}

# Language-independent slots, used by page paths.
_SHARED_VOCAB: dict[str, tuple[str, ...]] = {
    "slug": _words(
        "zapatillas-trail-x3, zapatillas-road-runner-5, chubasquero-storm, cortavientos-aero, "
        "chandal-urban, top-deportivo-core, maillot-vento, chaleco-hidratacion-ultra"
    ),
    "gadget_slug": _words("reloj-gps-pulse-2, reloj-pulse-lite, pulsometro-hr-pro, step"),
    "category": _words("running, trail, ropa-deportiva, fitness, gadgets, ciclismo"),
    "plan_slug": _words("premium, basico, pro, familiar"),
}

_SLOT_RE = re.compile(r"\{(\w+)\}")


def _fill(rng: random.Random, template: str, lang: str) -> str:
    """Replace each ``{slot}`` in ``template``, left to right, with a value drawn from ``rng``."""

    def slot(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "order":
            return f"{'US' if lang == 'en' else 'ES'}-{rng.randint(10000, 99999)}"
        if name == "amount":
            euros, cents = rng.randint(9, 189), rng.choice((0, 50, 90, 95, 99))
            return f"${euros}.{cents:02d}" if lang == "en" else f"{euros},{cents:02d} €"
        if name == "days":
            return str(rng.randint(2, 10))
        if name == "minutes":
            return str(rng.choice((5, 10, 15, 20, 25, 30)))
        words = _VOCAB[lang].get(name) or _SHARED_VOCAB.get(name)
        if words is None:
            raise KeyError(f"unknown template slot {{{name}}} in {template!r}")
        return rng.choice(words)

    return _SLOT_RE.sub(slot, template)


def _lang(lang: str) -> str:
    key = lang.strip().lower() if isinstance(lang, str) else ""
    return key if key in LANGUAGES else "es"


def _dept(department: str) -> str:
    key = department.strip().lower() if isinstance(department, str) else ""
    return key if key in DEPARTMENTS else "support"


def _mood(mood: str) -> str:
    key = mood.strip().lower() if isinstance(mood, str) else ""
    return key if key in MOODS else "neutral"


def _pick(rng: random.Random, pool: tuple[str, ...], lang: str) -> str:
    return _fill(rng, rng.choice(pool), lang)


# --------------------------------------------------------------------------- pages

_PAGES: dict[str, tuple[str, ...]] = {
    "sales": _words(
        "/, /productos/{slug}, /productos/{slug}, /productos/{slug}?talla={size}, "
        "/categorias/{category}, /precios, /ofertas, /novedades, /carrito, /planes/{plan_slug}"
    ),
    "support": _words(
        "/mi-cuenta/pedidos/{order}, /mi-cuenta/pedidos, /ayuda/devoluciones, /ayuda/envios, "
        "/ayuda/guia-de-tallas, /mi-cuenta/devoluciones, /contacto, /seguimiento?pedido={order}"
    ),
    "billing": _words(
        "/checkout, /checkout/pago, /mi-cuenta/facturas, /mi-cuenta/facturas/{order}, "
        "/mi-cuenta/suscripcion, /precios, /ayuda/pagos, /ayuda/reembolsos"
    ),
    "technical": _words(
        "/app, /ayuda/app/sincronizar, /login, /recuperar-contrasena, "
        "/ayuda/dispositivos/{gadget_slug}, /mi-cuenta/seguridad, /descargas, /ayuda/app/errores"
    ),
}

# --------------------------------------------------------------------------- openings

_OPENINGS: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("es", "sales", "neutral"): (
        "Hola, ¿qué precio tiene el {product} en la talla {size}?",
        "Buenas, ¿tenéis el {product} en talla {size}?",
        "Hola, ¿cuánto tarda en llegar un pedido a {city}?",
        "¿El envío es gratis a partir de cierto importe?",
        "Hola, quería saber si el {product} vuelve a estar disponible pronto.",
        "¿Qué diferencias hay entre los planes? Estoy mirando el {plan}.",
        "Buenas tardes, ¿hacéis descuento si compro dos unidades del {product}?",
        "Hola, ¿el {product} viene grande o pequeño? Normalmente uso la {size}.",
        "¿Se puede pagar a plazos? Me interesa el {product}, que cuesta {amount}.",
        "Hola, ¿tenéis tienda física en {city} o solo vendéis online?",
        "¿Cuánto cuesta el plan {plan} al mes?",
        "¿Las zapatillas Trail X3 sirven para asfalto o solo para montaña?",
    ),
    ("es", "sales", "complaint"): (
        "No me funciona el código de descuento y así no puedo terminar la compra. Qué rabia.",
        "Ayer el {product} costaba {amount} y hoy ha subido de precio. Eso no está bien.",
        "En la web pone que hay talla {size} pero al pagar sale agotado. Es muy frustrante.",
        "Me habéis cobrado {amount} de envío y en la web ponía envío gratis. No es justo.",
        "Llevo {days} días esperando a que repongáis el {product} y nadie me dice nada.",
        "Pedí información por email hace {days} días y sigo sin respuesta. Muy mal servicio.",
        "Vuestra guía de tallas es un lío y no sé qué pedir. Así no se puede comprar.",
        "He intentado comprar el {product} tres veces y el pago siempre falla. Estoy harto.",
        "El precio del plan {plan} ha subido sin avisar. Me parece fatal.",
        "Me prometieron un descuento por teléfono y ahora no aparece. Estoy muy molesta.",
        "Las fotos del {product} no se parecen nada al producto real. Qué decepción.",
    ),
    ("es", "sales", "positive"): (
        "¡Hola! Me encantó el {product} que compré y quiero otro en talla {size}.",
        "Buenas, os compré el {product} el mes pasado y estoy encantada. ¿Hay más colores?",
        "¡Me encanta la nueva colección! ¿Cuándo sale a la venta?",
        "Hola, una amiga me ha hablado genial de vuestra tienda. ¿Tenéis el {product}?",
        "¡Genial la oferta de esta semana! Quiero aprovecharla para el {product}.",
        "Me está gustando mucho el plan {plan}, ¿puedo pasarlo a anual?",
        "Soy cliente desde hace años y siempre me habéis tratado de maravilla. ¡Gracias!",
        "¡Hola! El {product} es una pasada, quiero comprar otro para mi pareja.",
        "Estoy muy contento con vuestra tienda. ¿Me llegaría un pedido a {city} antes del viernes?",
        "Gracias por la atención de la última vez, fue estupenda. Quiero hacer otro pedido.",
    ),
    ("es", "support", "neutral"): (
        "Hola, ¿cómo puedo cambiar la dirección de envío del pedido {order}?",
        "Buenas, ¿cuál es el plazo para hacer una devolución?",
        "Quería saber en qué estado está mi pedido {order}.",
        "Hola, ¿puedo cambiar el {product} por una talla {size}?",
        "¿Cómo restablezco la contraseña de mi cuenta?",
        "¿La devolución es gratuita o tengo que pagar yo el envío?",
        "Hola, me he mudado a {city}. ¿Cómo cambio la dirección en mi cuenta?",
        "¿Puedo recoger el pedido {order} en un punto de recogida?",
        "Buenas, ¿con qué transportista va el pedido {order}?",
        "Hola, ¿cómo me doy de baja de los correos de ofertas?",
    ),
    ("es", "support", "complaint"): (
        "Mi pedido {order} tenía que llegar hace {days} días y todavía no tengo nada.",
        "Me ha llegado el {product} en talla {size} y yo pedí otra. Qué desastre.",
        "El {product} ha llegado roto. Estoy muy decepcionado.",
        "Hice la devolución hace {days} días y todavía no sé nada. Es un desastre.",
        "El repartidor dice que entregó el pedido {order}, pero a mí no me ha llegado nada.",
        "Me ha llegado un producto que no es el que pedí. Pedido {order}. Estoy harta.",
        "La caja del pedido {order} llegó abierta y falta el {product}. Inaceptable.",
        "He escrito tres emails sobre el pedido {order} y nadie me contesta. Pésimo servicio.",
        "El {product} se ha descosido a la segunda semana. Muy mala calidad.",
        "No puedo entrar en mi cuenta y tengo un pedido pendiente. Es muy frustrante.",
    ),
    ("es", "support", "positive"): (
        "¡Hola! El pedido {order} ha llegado antes de lo previsto, ¡muchas gracias!",
        "Solo quería daros las gracias, el cambio de talla fue rapidísimo.",
        "¡Me encanta el {product}! ¿Podría pedir otro igual en talla {size}?",
        "La devolución fue muy fácil, gracias. ¿Puedo usar el saldo en un pedido nuevo?",
        "¡Qué rápido el envío! El {product} llegó perfecto.",
        "Gracias por mantenerme informado del envío, da gusto comprar así.",
        "Vuestro servicio de atención es de lo mejor, gracias por resolverlo tan rápido.",
        "¡Hola! El {product} me queda genial. ¿Tenéis el mismo en otro color?",
        "Todo perfecto con mi pedido {order}, ¡gracias! ¿Dónde puedo dejar una reseña?",
        "Muy contenta con la compra, el embalaje era precioso. ¡Gracias!",
    ),
    ("es", "billing", "neutral"): (
        "Hola, ¿me podéis enviar una copia de la factura del pedido {order}?",
        "¿Cómo cambio la tarjeta con la que pago el plan {plan}?",
        "Necesito la factura a nombre de mi empresa, ¿cómo lo hago?",
        "¿Qué métodos de pago aceptáis? ¿Se puede con Bizum?",
        "Hola, ¿cuándo se renueva mi suscripción al plan {plan}?",
        "¿El precio de {amount} incluye el IVA?",
        "Buenas, ¿puedo pagar el plan {plan} de forma anual?",
        "¿Dónde veo el historial de pagos en mi cuenta?",
        "Hola, ¿cuánto tarda el reembolso una vez aceptada la devolución?",
        "¿Puedo añadir mi NIF a una factura que ya está emitida?",
    ),
    ("es", "billing", "complaint"): (
        "Me habéis cobrado dos veces el pedido {order}. Quiero que me devolváis {amount} ya.",
        "Hace {days} días que tramitasteis el reembolso y no me ha llegado nada.",
        "Me habéis renovado el plan {plan} sin avisar y lo había cancelado. Esto es un abuso.",
        "Me aparece un cargo de {amount} que no reconozco. Estoy muy preocupada.",
        "La factura tiene mal mis datos y ya os lo dije la semana pasada. Qué desastre.",
        "Me cobrasteis {amount} por el plan {plan} y no me deja acceder a nada. Fatal.",
        "He pagado {amount} y el pedido {order} sigue como pendiente de pago. Es indignante.",
        "Me cobráis los gastos de devolución cuando la web dice que son gratis. Muy mal.",
        "El reembolso que me habéis hecho es menor de lo que pagué. No es aceptable.",
        "Intento descargar la factura y la web da error. Llevo {days} días así y estoy harto.",
    ),
    ("es", "billing", "positive"): (
        "¡Hola! Ya me ha llegado el reembolso, muchas gracias por la rapidez.",
        "Gracias por corregir la factura tan rápido, todo perfecto.",
        "Estoy encantada con el plan {plan}, ¿cómo lo paso a anual?",
        "Muchas gracias por el descuento de fidelidad, ¡qué detalle!",
        "¡Genial! Me ha llegado la factura al correo. Solo quería confirmar que está todo bien.",
        "Hola, el pago con Bizum ha ido perfecto, ¡qué cómodo!",
        "Os escribo para agradecer la devolución de {amount}, ha sido rapidísima.",
        "Me encanta poder pagar a plazos, ¡gracias! ¿Puedo hacerlo en el próximo pedido?",
        "Muy contento con el cambio al plan {plan}, merece mucho la pena.",
        "¡Gracias! Ya veo el abono en mi cuenta. Da gusto tratar con vosotros.",
    ),
    ("es", "technical", "neutral"): (
        "Hola, ¿cómo sincronizo el {gadget} con la app?",
        "¿La app funciona en Android 10 o necesito un móvil más nuevo?",
        "¿Cómo restablezco la contraseña desde la app?",
        "Buenas, ¿el {gadget} es compatible con iPhone?",
        "¿Cómo actualizo el firmware del {gadget}?",
        "Hola, ¿se pueden exportar los entrenamientos a Strava?",
        "¿Cómo activo la verificación en dos pasos en mi cuenta?",
        "¿Cuánto dura la batería del {gadget}?",
        "Hola, ¿hay versión de la app para tablet?",
        "¿Cómo cambio las unidades de millas a kilómetros en la app?",
    ),
    ("es", "technical", "complaint"): (
        "La app se cierra sola cada vez que abro mis entrenamientos. Es desesperante.",
        "El {gadget} no se conecta al móvil desde la última actualización. Fatal.",
        "No puedo iniciar sesión: dice que la contraseña es incorrecta y la acabo de cambiar.",
        "La web se queda colgada en el checkout y no puedo pagar. Qué rabia.",
        "El {gadget} dejó de encender a los {days} días de comprarlo. Estoy muy decepcionado.",
        "He perdido todos mis entrenamientos al actualizar la app. Estoy muy enfadada.",
        "La app va lentísima y se bloquea constantemente. Así no se puede usar.",
        "No me llega el correo para cambiar la contraseña. Llevo {days} días sin poder entrar.",
        "El {gadget} da datos que no tienen sentido. Para lo que cuesta, es una vergüenza.",
        "Pago el plan {plan} y la app me sigue mostrando anuncios. Esto no funciona bien.",
    ),
    ("es", "technical", "positive"): (
        "¡La nueva versión de la app va genial! Solo una duda: ¿dónde está el modo oscuro?",
        "Hola, el {gadget} funciona de maravilla. ¿Se puede usar también con otro móvil?",
        "Gracias por la ayuda con la sincronización, ya funciona todo perfecto.",
        "¡Me encanta la app! ¿Vais a añadir planes de entrenamiento para maratón?",
        "El {gadget} es una maravilla, estoy muy contento. ¿Tiene funciones que no conozca?",
        "La última actualización ha mejorado muchísimo la batería, ¡enhorabuena!",
        "Todo funciona perfecto desde que me ayudasteis ayer, ¡mil gracias!",
        "Qué gusto de app, sencilla y rápida. ¿Puedo compartir mis rutas con amigos?",
        "¡Hola! Acabo de estrenar el {gadget} y me encanta. ¿Cómo activo las alertas?",
        "Genial el plan {plan}, las estadísticas son muy completas. ¿Se pueden descargar?",
    ),
    ("en", "sales", "neutral"): (
        "Hi, how much is the {product} in size {size}?",
        "Do you have the {product} in size {size}?",
        "How long does shipping to {city} usually take?",
        "Is shipping free over a certain amount?",
        "Hi there, any idea when the {product} will be back in stock?",
        "What's the difference between the plans? I'm looking at the {plan} plan.",
        "Do you offer a discount if I buy two of the {product}?",
        "Does the {product} run large or small? I'm usually a {size}.",
        "Can I pay in installments? The {product} is {amount}.",
        "Do you have a physical store in {city} or is it online only?",
        "How much is the {plan} plan per month?",
        "Is the Trail X3 good for road running or just for trails?",
    ),
    ("en", "sales", "complaint"): (
        "Your discount code doesn't work and I can't finish my purchase. So annoying.",
        "Yesterday the {product} was {amount} and today the price went up. That's not fair.",
        "The site says size {size} is in stock but checkout says sold out. Really frustrating.",
        "You charged me {amount} for shipping when the site said free shipping. Not okay.",
        "I've been waiting {days} days for the {product} to be restocked and nobody tells me.",
        "I emailed you {days} days ago and still no reply. Terrible service.",
        "Your size guide is confusing and useless, I have no idea what to order.",
        "I've tried to buy the {product} three times and the payment keeps failing. Fed up.",
        "The price of the {plan} plan went up without any notice. Not happy at all.",
        "The {product} looks nothing like the photos. Very disappointing.",
    ),
    ("en", "sales", "positive"): (
        "Hi! I loved the {product} I bought and want another one in size {size}.",
        "Bought the {product} last month and I'm so happy with it. Any other colours?",
        "Love the new collection! When does it go on sale?",
        "A friend spoke really highly of your shop. Do you have the {product}?",
        "Great deal this week! I'd like to get the {product} while it lasts.",
        "I'm really enjoying the {plan} plan, can I switch to yearly billing?",
        "I've been a customer for years and you've always been great. Thank you!",
        "Hi! The {product} is amazing, I want to buy one for my partner too.",
        "Really happy with your shop! Could an order reach {city} by Friday?",
        "Thanks for the great help last time. I'd like to place another order.",
    ),
    ("en", "support", "neutral"): (
        "Hi, how can I change the delivery address for order {order}?",
        "What's the time limit for returns?",
        "Could you tell me the status of my order {order}?",
        "Can I exchange the {product} for a size {size}?",
        "How do I reset my account password?",
        "Are returns free or do I pay for the shipping?",
        "I just moved to {city}. How do I update the address on my account?",
        "Can I pick up order {order} at a collection point?",
        "Which courier is delivering order {order}?",
        "How do I unsubscribe from the marketing emails?",
    ),
    ("en", "support", "complaint"): (
        "My order {order} was supposed to arrive {days} days ago and I still have nothing.",
        "I got the {product} in size {size} and that's not what I ordered. What a mess.",
        "The {product} arrived broken. I'm really disappointed.",
        "I sent the return {days} days ago and haven't heard anything. This is terrible.",
        "Tracking says order {order} was delivered but I never got it.",
        "I received the wrong item for order {order}. I'm so fed up.",
        "The box for order {order} arrived open and the {product} is missing. Unacceptable.",
        "I've sent three emails about order {order} and nobody replies. Awful service.",
        "The {product} started falling apart after two weeks. Really poor quality.",
        "I'm locked out of my account and I have a pending order. Very frustrating.",
    ),
    ("en", "support", "positive"): (
        "Hi! Order {order} arrived earlier than expected, thank you so much!",
        "Just wanted to say thanks, the size exchange was super quick.",
        "I love the {product}! Could I order another one in size {size}?",
        "The return was really easy, thanks. Can I use the store credit on a new order?",
        "Wow, fast shipping! The {product} arrived in perfect condition.",
        "Thanks for keeping me updated on the delivery, it makes shopping so easy.",
        "Your customer service is the best, thanks for sorting things out so quickly.",
        "Hi! The {product} fits perfectly. Do you have the same one in another colour?",
        "Everything was perfect with order {order}, thanks! Where can I leave a review?",
        "Really happy with my purchase, the packaging was lovely. Thanks!",
    ),
    ("en", "billing", "neutral"): (
        "Hi, could you send me a copy of the invoice for order {order}?",
        "How do I change the card I use for the {plan} plan?",
        "I need the invoice in my company's name, how do I do that?",
        "Which payment methods do you accept? Is PayPal an option?",
        "When does my {plan} plan subscription renew?",
        "Does the {amount} price include tax?",
        "Can I pay for the {plan} plan annually?",
        "Where can I see my payment history?",
        "How long does a refund take once the return is accepted?",
        "Can I add my VAT number to an invoice that's already been issued?",
    ),
    ("en", "billing", "complaint"): (
        "You charged me twice for order {order}. I want my {amount} back now.",
        "You processed my refund {days} days ago and I still haven't received it.",
        "You renewed my {plan} plan without warning after I'd cancelled it. Outrageous.",
        "There's a {amount} charge on my statement I don't recognise. I'm really worried.",
        "My invoice has the wrong details and I told you last week already. What a mess.",
        "You charged me {amount} for the {plan} plan and I can't access anything. Awful.",
        "I paid {amount} and order {order} still shows as awaiting payment. Unacceptable.",
        "You're charging me for the return when the site says returns are free. Not okay.",
        "The refund you sent is less than what I paid. That's not acceptable.",
        "I can't download my invoice, the site errors out. It's been {days} days. Fed up.",
    ),
    ("en", "billing", "positive"): (
        "Hi! My refund just came through, thanks so much for being so quick.",
        "Thanks for fixing the invoice so fast, all good now.",
        "Loving the {plan} plan! How do I switch to annual billing?",
        "Thank you so much for the loyalty discount, that was really kind!",
        "Great, the invoice arrived in my inbox. Just wanted to confirm everything's fine.",
        "Paying with PayPal was super smooth, love it!",
        "Writing to say thanks for the {amount} refund, it was really fast.",
        "Love being able to pay in installments, thank you! Can I do it next time too?",
        "Really happy I upgraded to the {plan} plan, it's totally worth it.",
        "Thanks! I can see the credit on my account. You're great to deal with.",
    ),
    ("en", "technical", "neutral"): (
        "Hi, how do I sync the {gadget} with the app?",
        "Does the app work on Android 10 or do I need a newer phone?",
        "How do I reset my password from the app?",
        "Is the {gadget} compatible with iPhone?",
        "How do I update the firmware on the {gadget}?",
        "Can I export my workouts to Strava?",
        "How do I turn on two-factor authentication?",
        "How long does the battery on the {gadget} last?",
        "Is there a tablet version of the app?",
        "How do I switch the app from miles to kilometres?",
    ),
    ("en", "technical", "complaint"): (
        "The app crashes every time I try to open my workouts. It's driving me crazy.",
        "The {gadget} won't connect to my phone since the last update. Awful.",
        "I can't log in, it says my password is wrong and I just changed it. So annoying.",
        "The website freezes at checkout and I can't pay. Really frustrating.",
        "The {gadget} died {days} days after I bought it. Really disappointed.",
        "I lost all my workouts after updating the app. I'm really upset.",
        "The app is painfully slow and keeps freezing. It's unusable.",
        "The password reset email never arrives. I've been locked out for {days} days.",
        "The {gadget} gives readings that make no sense. For the price, that's a disgrace.",
        "I pay for the {plan} plan and the app still shows me ads. This is broken.",
    ),
    ("en", "technical", "positive"): (
        "The new app version is great! Quick question: where's dark mode?",
        "Hi, the {gadget} works brilliantly. Can I use it with a second phone?",
        "Thanks for the help with syncing, everything works perfectly now.",
        "Love the app! Are you planning to add marathon training plans?",
        "The {gadget} is fantastic, I'm really happy with it. Any features I might not know?",
        "The latest update improved the battery life a lot, well done!",
        "Everything has worked perfectly since you helped me yesterday, thanks a million!",
        "Such a nice app, simple and fast. Can I share my routes with friends?",
        "Hi! Just started using the {gadget} and I love it. How do I turn on alerts?",
        "The {plan} plan is great, the stats are really detailed. Can I download them?",
    ),
}

# --------------------------------------------------------------------------- waiting visitor

_FOLLOW_UPS: dict[tuple[str, int], tuple[str, ...]] = {
    ("es", 1): (
        "¿Hola? ¿Hay alguien?",
        "¿Sigue alguien por ahí?",
        "Hola, sigo esperando respuesta.",
        "¿Me podéis atender, por favor?",
        "Perdón, ¿habéis leído mi mensaje?",
        "¿Hola? Sigo aquí.",
        "¿Alguien me puede ayudar?",
        "Quedo a la espera, gracias.",
    ),
    ("es", 2): (
        "Llevo ya un buen rato esperando...",
        "¿En serio nadie me va a contestar? Llevo {minutes} minutos aquí.",
        "Esto está tardando demasiado, la verdad.",
        "Vaya servicio, llevo un montón de tiempo esperando.",
        "Sigo esperando y nadie me dice nada. No es normal.",
        "Por favor, ¿alguien me puede responder ya? Tengo prisa.",
        "Estoy perdiendo la paciencia, llevo {minutes} minutos sin respuesta.",
        "Qué poca seriedad, nadie contesta.",
    ),
    ("es", 3): (
        "¡¡¡Esto es una vergüenza!!! Quiero hablar con un responsable YA.",
        "Es la tercera vez que escribo y nadie me atiende. Quiero mi REEMBOLSO.",
        "Exijo hablar con un supervisor. Esto es inaceptable.",
        "Voy a pedir la hoja de reclamaciones. ¡¡Llevo {minutes} minutos esperando!!",
        "Quiero cancelar mi cuenta. No pienso volver a comprar aquí.",
        "¡¡Qué servicio tan PÉSIMO!! Devolvedme el dinero.",
        "Es indignante. Quiero un reembolso completo y hablar con un responsable.",
        "Es la tercera vez que me pasa esto con vosotros. ¡¡¡NUNCA MÁS!!!",
    ),
    ("en", 1): (
        "Hello? Anyone there?",
        "Hi, is anyone there?",
        "Still waiting for a reply.",
        "Could someone help me, please?",
        "Sorry, did you see my message?",
        "Hello? I'm still here.",
        "Can anyone help?",
        "Just checking in, still waiting.",
    ),
    ("en", 2): (
        "I've been waiting for ages...",
        "Seriously, is nobody going to answer? I've been here {minutes} minutes.",
        "This is taking way too long.",
        "Still waiting and nobody's said anything. Not good.",
        "Can someone please reply? I'm in a hurry.",
        "I'm losing patience, {minutes} minutes with no reply.",
        "Why is nobody answering? This is annoying.",
        "This is really slow, I've been waiting a long time.",
    ),
    ("en", 3): (
        "This is RIDICULOUS!!! I want to speak to a manager NOW.",
        "Third time I've written and nobody helps. I want a REFUND.",
        "I demand to speak to a supervisor. This is unacceptable.",
        "Cancel my account. I'm never shopping here again.",
        "Worst service EVER!!! Give me my money back.",
        "I've waited {minutes} minutes. I want a full refund and a manager, now!!!",
        "This is the third time this has happened. I'm filing a complaint!!!",
        "Absolutely ridiculous. Get me a supervisor or cancel my account.",
    ),
}

_GIVES_UP: dict[str, tuple[str, ...]] = {
    "es": (
        "Da igual, ya lo compro en otro sitio.",
        "Bueno, me canso de esperar. Adiós.",
        "Pues nada, ya veo que no me va a atender nadie.",
        "Olvidadlo, cancelo el pedido y punto.",
        "No tengo todo el día. Me voy.",
        "Qué pérdida de tiempo. Hasta nunca.",
        "Me rindo. Ya lo resolveré por otro lado.",
    ),
    "en": (
        "Forget it, I'll buy it somewhere else.",
        "Never mind, I'm done waiting. Bye.",
        "Clearly nobody is going to help me.",
        "Forget it, I'm cancelling the order.",
        "I don't have all day. I'm leaving.",
        "What a waste of time. Goodbye.",
        "I give up. I'll sort it out some other way.",
    ),
}

# --------------------------------------------------------------------------- visitor in chat

_REPLIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("es", "neutral"): (
        "Vale, el número de pedido es {order}.",
        "Entendido. ¿Y si lo quiero en talla {size}?",
        "De acuerdo. Otra pregunta: ¿el envío a {city} tarda lo mismo?",
        "Sí, es el pedido {order}, con la cuenta de este correo.",
        "Vale. ¿Y eso cuánto tarda, más o menos?",
        "Una cosa más: ¿eso vale también para el plan {plan}?",
        "Ok, ¿me lo podéis confirmar por email?",
        "Lo pagué con tarjeta, fueron {amount}.",
        "Vale, lo compruebo y os digo.",
        "¿Y tengo que hacer algo yo o lo gestionáis vosotros?",
    ),
    ("es", "complaint"): (
        "Ya, pero eso mismo me dijeron la semana pasada y sigo igual.",
        "No me vale esa respuesta, el pedido {order} sigue sin llegar.",
        "Eso ya lo he probado y no funciona.",
        "Pagué {amount} y no he recibido nada. No es normal.",
        "¿Y cuánto más tengo que esperar? Esto es un desastre.",
        "Pues estoy bastante molesta, la verdad. Nadie me había avisado.",
        "No entiendo por qué tengo que pagar yo el error de otros.",
        "Me parece muy mal tener que escribir tantas veces por lo mismo.",
        "El número es {order}, y espero que esta vez lo solucionéis de verdad.",
        "Sigo sin entenderlo. Es la segunda vez que me pasa con vosotros.",
    ),
    ("es", "positive"): (
        "¡Genial, muchas gracias! El pedido es el {order}.",
        "¡Perfecto! Entonces me lo quedo en talla {size}.",
        "¡Qué bien! Me habéis ayudado muchísimo.",
        "Estupendo, así da gusto. ¿Puedo pedir también el {product}?",
        "¡Me encanta! Ahora mismo hago el pedido.",
        "Muy amable, de verdad. ¿Me llegaría a {city} esta semana?",
        "¡Genial! Pues me paso al plan {plan}.",
        "Vale, ¡mil gracias por la rapidez!",
        "¡Qué bien explicado! Ya lo tengo claro.",
    ),
    ("en", "neutral"): (
        "Okay, the order number is {order}.",
        "Got it. And what if I want it in size {size}?",
        "Alright. Another question: does shipping to {city} take the same time?",
        "Yes, it's order {order}, on the account with this email.",
        "Okay. Roughly how long does that take?",
        "One more thing: does that apply to the {plan} plan too?",
        "Ok, could you confirm that by email?",
        "I paid by card, it was {amount}.",
        "Okay, I'll check and get back to you.",
        "Do I need to do anything, or will you handle it?",
    ),
    ("en", "complaint"): (
        "Yeah, but that's exactly what I was told last week and nothing changed.",
        "That answer doesn't help, order {order} still hasn't arrived.",
        "I've already tried that and it doesn't work.",
        "I paid {amount} and got nothing. That's not normal.",
        "How much longer do I have to wait? This is a mess.",
        "Honestly I'm pretty annoyed. Nobody told me anything.",
        "I don't see why I should pay for someone else's mistake.",
        "It's really bad that I have to write so many times about the same thing.",
        "The number is {order}, and I hope you actually fix it this time.",
        "I still don't get it. This is the second time this has happened with you.",
    ),
    ("en", "positive"): (
        "Great, thanks so much! The order is {order}.",
        "Perfect! Then I'll take it in size {size}.",
        "Brilliant! You've been a huge help.",
        "Lovely, that's great service. Can I also order the {product}?",
        "Love it! I'm placing the order right now.",
        "That's really kind of you. Could it reach {city} this week?",
        "Great! I'll switch to the {plan} plan then.",
        "Okay, thanks a million for being so quick!",
        "Really clear explanation, it all makes sense now!",
    ),
}

_AFTER_AI: dict[tuple[str, bool], tuple[str, ...]] = {
    ("es", True): (
        "Perfecto, era justo lo que necesitaba, gracias.",
        "Genial, me ha quedado clarísimo.",
        "¡Qué rápido! Muchas gracias, resuelto.",
        "Vale, perfecto, con eso me sirve.",
        "Estupendo, ya lo he encontrado. ¡Gracias!",
        "¡Muy útil! Gracias por la ayuda.",
    ),
    ("es", False): (
        "No me sirve, quiero hablar con una persona.",
        "Eso no responde a mi pregunta. ¿Me pasáis con alguien?",
        "No quiero hablar con un robot, pasadme con un agente, por favor.",
        "Esa respuesta es genérica y no me ayuda nada.",
        "Eso ya lo he leído en la web y no me soluciona el problema.",
        "No, no es eso. Necesito que me atienda una persona de verdad.",
    ),
    ("en", True): (
        "Perfect, that's exactly what I needed, thanks.",
        "Great, that's really clear.",
        "That was quick! Thanks a lot, sorted.",
        "Okay, perfect, that works for me.",
        "Brilliant, found it. Thanks!",
        "Very helpful! Thanks for the help.",
    ),
    ("en", False): (
        "That doesn't help, I want to talk to a person.",
        "That doesn't answer my question. Can you put me through to someone?",
        "I don't want to talk to a bot, please get me a real agent.",
        "That answer is generic and doesn't help me at all.",
        "I already read that on the website and it doesn't solve my problem.",
        "No, that's not it. I need a real person to help me.",
    ),
}

_THANKS: dict[str, tuple[str, ...]] = {
    "es": (
        "¡Muchas gracias por todo!",
        "Perfecto, gracias. ¡Que tengas buen día!",
        "Mil gracias, me has ayudado un montón.",
        "Genial, todo claro. ¡Gracias!",
        "Gracias por la paciencia, ¡un saludo!",
        "¡Estupendo! Gracias por la rapidez.",
        "Muy amable, de verdad. ¡Hasta luego!",
        "Resuelto, ¡gracias! Da gusto que te atiendan así.",
    ),
    "en": (
        "Thanks so much for everything!",
        "Perfect, thanks. Have a great day!",
        "Thanks a million, you've been a big help.",
        "Great, all clear. Thanks!",
        "Thanks for your patience, cheers!",
        "Brilliant! Thanks for being so quick.",
        "That's really kind, thank you. Bye!",
        "All sorted, thanks! Great service.",
    ),
}

# --------------------------------------------------------------------------- commercial

_GREETINGS: dict[str, tuple[str, ...]] = {
    "es": (
        "¡Hola {visitor}! Soy {agent}, ¿en qué puedo ayudarte?",
        "Hola, {visitor}. Te atiende {agent}. Cuéntame.",
        "¡Buenas! Soy {agent}, del equipo de atención al cliente. ¿Qué necesitas?",
        "Hola {visitor}, soy {agent}. Ahora mismo lo miro contigo.",
        "¡Hola! Soy {agent}, gracias por escribirnos. ¿Me cuentas un poco más?",
        "Buenas, {visitor}, te atiende {agent}. Dame un segundo que reviso tu consulta.",
        "Hola {visitor}, soy {agent}. He leído tu mensaje, vamos a resolverlo.",
        "¡Hola! Te escribe {agent}. ¿En qué te puedo echar una mano?",
        "¡Hola! Gracias por contactar con nosotros, ¿en qué puedo ayudarte?",
    ),
    "en": (
        "Hi {visitor}! I'm {agent}, how can I help you?",
        "Hello {visitor}, {agent} here. What can I do for you?",
        "Hi there! I'm {agent} from the customer care team. What do you need?",
        "Hi {visitor}, it's {agent}. Let me look into this with you.",
        "Hello! I'm {agent}, thanks for reaching out. Could you tell me a bit more?",
        "Hi {visitor}, you're chatting with {agent}. Give me a second to check your request.",
        "Hi {visitor}, I'm {agent}. I've read your message, let's get this sorted.",
        "Hey! {agent} here. How can I help today?",
        "Hi! Thanks for contacting us, how can I help?",
    ),
}

_ANSWERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("es", "sales"): (
        "El {product} cuesta {amount} y ahora mismo tenemos stock en casi todas las tallas.",
        "Los envíos a {city} tardan entre 24 y 48 horas laborables y son gratis desde 50 €.",
        "Te recomiendo tu talla habitual. Si no te queda bien, el cambio es gratuito.",
        "El plan {plan} incluye envíos gratis, devoluciones ampliadas y acceso antes a rebajas.",
        "Sí, puedes pagar en 3 plazos sin intereses con tarjeta a partir de 90 €.",
        "La talla {size} vuelve a estar disponible en unos {days} días. ¿Te aviso por email?",
        "Con el código BIENVENIDA10 tienes un 10 % de descuento en tu primera compra.",
        "Ahora mismo el {product} está rebajado a {amount}; la oferta dura hasta el domingo.",
    ),
    ("es", "support"): (
        "He revisado el pedido {order}: sale hoy y lo tendrás en {days} días como máximo.",
        "Tienes 30 días desde la entrega para devolverlo, y es gratis desde tu cuenta.",
        "Ya he cambiado la dirección del pedido {order}. Te llegará un email de confirmación.",
        "Para cambiar la talla, entra en Mi cuenta > Pedidos, elige el producto y pulsa «Cambiar».",
        "Siento lo del producto dañado. Te enviamos uno nuevo hoy mismo, sin ningún coste.",
        "He abierto una incidencia con el transportista; en {days} días te decimos algo.",
        "Pulsa «¿Has olvidado tu contraseña?» al iniciar sesión y sigue el enlace del email.",
        "Te he enviado la etiqueta de devolución por email; puedes dejar el paquete en Correos.",
    ),
    ("es", "billing"): (
        "Te acabo de enviar la factura del pedido {order} a tu correo.",
        "He visto el doble cargo y ya he tramitado la devolución de {amount}. Tardará {days} días.",
        "Puedes cambiar la tarjeta en Mi cuenta > Suscripción > Método de pago.",
        "El reembolso ya está procesado; según tu banco, puede tardar hasta {days} días en verse.",
        "Todos los precios incluyen IVA. Si necesitas factura con NIF, añádelo en tus datos.",
        "He cancelado la renovación del plan {plan} y te devolvemos {amount} en {days} días.",
        "Aceptamos tarjeta, PayPal y Bizum, y también pago a plazos a partir de 90 €.",
        "He corregido los datos de la factura; tienes la nueva versión en Mi cuenta > Facturas.",
    ),
    ("es", "technical"): (
        "Prueba a cerrar sesión, borrar la caché de la app y volver a entrar. Suele solucionarlo.",
        "Para sincronizar el {gadget}, activa el Bluetooth y ve a Dispositivos > Añadir en la app.",
        "Es un fallo conocido de la versión 4.2; la corrección sale en {days} días.",
        "Te he enviado otro enlace para cambiar la contraseña; mira también en la carpeta de spam.",
        "Mantén pulsado el botón del {gadget} 10 segundos para reiniciarlo y vuelve a emparejarlo.",
        "Tus entrenamientos están en la nube; al iniciar sesión de nuevo se recuperan solos.",
        "La app es compatible con Android 9 o superior e iOS 15 o superior.",
        "He reiniciado tu sesión desde nuestro lado; ya deberías poder entrar sin problema.",
    ),
    ("en", "sales"): (
        "The {product} is {amount} and we have nearly every size in stock right now.",
        "Shipping to {city} takes 2 to 3 business days and it's free on orders over $50.",
        "I'd go with your usual size. If it doesn't fit, exchanges are free.",
        "The {plan} plan includes free shipping, extended returns and early access to sales.",
        "Yes, you can split the payment into 3 interest-free installments on orders over $90.",
        "Size {size} will be back in about {days} days. Want me to email you when it lands?",
        "Use the code WELCOME10 for 10% off your first order.",
        "The {product} is on sale for {amount} right now, the offer runs until Sunday.",
    ),
    ("en", "support"): (
        "I've checked order {order}: it ships today and will reach you within {days} days.",
        "You have 30 days from delivery to return it, and it's free from your account.",
        "I've updated the delivery address for order {order}. You'll get a confirmation email.",
        "To change the size, go to My account > Orders, pick the item and click 'Exchange'.",
        "Sorry about the damaged item. We're sending you a new one today at no cost.",
        "I've opened a case with the courier; we'll get back to you within {days} days.",
        "Click 'Forgot your password?' on the login page and follow the link in the email.",
        "I've emailed you a prepaid return label; you can drop the parcel at any post office.",
    ),
    ("en", "billing"): (
        "I've just sent the invoice for order {order} to your email.",
        "I can see the double charge and I've refunded the {amount}. It takes about {days} days.",
        "You can change your card under My account > Subscription > Payment method.",
        "The refund has been processed; depending on your bank it can take up to {days} days.",
        "All prices include tax. To get your VAT number on invoices, add it to your details.",
        "I've cancelled the {plan} plan renewal and we'll refund {amount} within {days} days.",
        "We accept cards, PayPal and Apple Pay, and installments on orders over $90.",
        "I've corrected your invoice details; the new version is under My account > Invoices.",
    ),
    ("en", "technical"): (
        "Try logging out, clearing the app cache and logging back in. That usually fixes it.",
        "To sync the {gadget}, turn on Bluetooth and go to Devices > Add in the app.",
        "It's a known bug in version 4.2; the update that fixes it is out in {days} days.",
        "I've sent you a new password reset link; please check your spam folder too.",
        "Hold the side button on the {gadget} for 10 seconds to restart it, then pair it again.",
        "Your workouts are saved in the cloud; they'll come back as soon as you log in again.",
        "The app supports Android 9 or later and iOS 15 or later.",
        "I've reset your session on our side, so you should be able to log in now.",
    ),
}

_APOLOGIES: dict[str, tuple[str, ...]] = {
    "es": (
        "Perdona la espera, de verdad. Ya estoy contigo.",
        "Siento mucho haberte hecho esperar, hoy tenemos muchísimas consultas.",
        "Lo siento muchísimo, entiendo tu enfado. Vamos a solucionarlo ahora mismo.",
        "Disculpa el retraso en responder. Tienes toda la razón, no debería haber pasado.",
        "Lamento mucho las molestias. Me encargo personalmente de tu caso.",
        "Perdón por la demora. Ya he revisado tu consulta y te cuento.",
    ),
    "en": (
        "Sorry for the wait, really. I'm with you now.",
        "I'm so sorry to keep you waiting, we're very busy today.",
        "I'm really sorry, I understand you're upset. Let's fix this right now.",
        "Apologies for the slow reply. You're absolutely right, it shouldn't have happened.",
        "I'm very sorry for the trouble. I'll handle your case personally.",
        "Sorry for the delay. I've already looked at your request, here's what I found.",
    ),
}

_CLOSINGS: dict[str, tuple[str, ...]] = {
    "es": (
        "¿Puedo ayudarte en algo más? ¡Que tengas un buen día!",
        "Gracias por escribirnos. ¡Un saludo!",
        "Perfecto, cierro la conversación. Si necesitas algo más, aquí estamos.",
        "Ha sido un placer ayudarte. ¡Hasta pronto!",
        "Te dejo también la confirmación por email. ¡Feliz día!",
        "Cualquier otra duda, escríbenos cuando quieras. ¡Buen día!",
    ),
    "en": (
        "Is there anything else I can help with? Have a great day!",
        "Thanks for getting in touch. Take care!",
        "Perfect, I'll close the chat now. If you need anything else, we're here.",
        "It was a pleasure helping you. See you soon!",
        "I've also sent you a confirmation by email. Have a lovely day!",
        "If anything else comes up, just message us. Have a good one!",
    ),
}

# --------------------------------------------------------------------------- public API


def visitor_name(rng: random.Random, lang: str) -> str:
    """A realistic first name and surname for a visitor writing in ``lang``."""
    key = _lang(lang)
    return f"{rng.choice(_FIRST_NAMES[key])} {rng.choice(_SURNAMES[key])}"


def commercial_name(rng: random.Random) -> str:
    """A Spanish agent name with the surname initial, e.g. ``"Lucía M."``."""
    return f"{rng.choice(_FIRST_NAMES['es'])} {rng.choice(_SURNAMES['es'])[0]}."


def page_for(rng: random.Random, department: str) -> str:
    """A site path a visitor of ``department`` would plausibly be on."""
    return _pick(rng, _PAGES[_dept(department)], "es")


def opening(rng: random.Random, lang: str, department: str, mood: str) -> str:
    """The first message of a visitor opening a chat."""
    key = _lang(lang)
    return _pick(rng, _OPENINGS[(key, _dept(department), _mood(mood))], key)


def follow_up(rng: random.Random, lang: str, department: str, anger: int) -> str:
    """A nudge from a visitor left waiting; ``anger`` 1 is mild, 3 or more is escalation."""
    key = _lang(lang)
    return _pick(rng, _FOLLOW_UPS[(key, max(1, min(3, int(anger))))], key)


def visitor_reply(rng: random.Random, lang: str, department: str, mood: str) -> str:
    """A visitor's message after a commercial answered (details, a second question)."""
    key = _lang(lang)
    return _pick(rng, _REPLIES[(key, _mood(mood))], key)


def visitor_after_ai(rng: random.Random, lang: str, satisfied: bool) -> str:
    """The visitor's reaction to an automated AI reply."""
    key = _lang(lang)
    return _pick(rng, _AFTER_AI[(key, bool(satisfied))], key)


def visitor_thanks(rng: random.Random, lang: str) -> str:
    """A closing thank-you from the visitor."""
    key = _lang(lang)
    return _pick(rng, _THANKS[key], key)


def visitor_gives_up(rng: random.Random, lang: str) -> str:
    """The visitor's last message before abandoning the chat."""
    key = _lang(lang)
    return _pick(rng, _GIVES_UP[key], key)


def commercial_greeting(rng: random.Random, lang: str, commercial: str, visitor: str) -> str:
    """The agent's first message; sometimes uses the agent's and visitor's first names."""
    key = _lang(lang)
    agent = commercial.split()[0] if commercial and commercial.split() else ""
    guest = visitor.split()[0] if visitor and visitor.split() else ""
    pool = tuple(
        t
        for t in _GREETINGS[key]
        if (agent or "{agent}" not in t) and (guest or "{visitor}" not in t)
    )
    # Names are substituted last and never re-scanned, so braces in a name cannot break filling.
    return rng.choice(pool).replace("{agent}", agent).replace("{visitor}", guest)


def commercial_answer(rng: random.Random, lang: str, department: str) -> str:
    """A helpful, substantive agent answer fitting ``department``."""
    key = _lang(lang)
    return _pick(rng, _ANSWERS[(key, _dept(department))], key)


def commercial_apology(rng: random.Random, lang: str) -> str:
    """The agent apologising to a visitor who got angry while waiting."""
    key = _lang(lang)
    return _pick(rng, _APOLOGIES[key], key)


def commercial_closing(rng: random.Random, lang: str) -> str:
    """The agent's closing message."""
    key = _lang(lang)
    return _pick(rng, _CLOSINGS[key], key)
