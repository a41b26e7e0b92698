import Testing
@testable import Mail

@Suite struct ReplyTrimmerTests {
    @Test(arguments: [
        ("Yes.\n\nOn Mon, Dec 1, 2026 at 10:00 AM Bob <b@x> wrote:\n> question", "Yes."),
        ("Ja.\n\nAm 01.12.2026 um 10:00 schrieb Bob <b@x>:\n> Frage", "Ja."),
        ("Oui.\n\nLe lun. 1 déc. 2026 à 10:00, Bob <b@x> a écrit :\n> question", "Oui."),
        ("Sí.\n\nEl lun, 1 dic 2026 a las 10:00, Bob (<b@x>) escribió:\n> pregunta", "Sí."),
        ("Fine.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n", "Fine."),
        ("Fine.\n\nFrom: Bob <b@x>\nSent: Monday, December 1, 2026 10:00\nTo: me\n\nold", "Fine."),
        ("Gut.\n\nVon: Bob <b@x>\nGesendet: Montag, 1. Dezember 2026 10:00\nAn: ich\n", "Gut."),
        ("Top answer\n> quoted\nbottom answer\n", "Top answer\nbottom answer"),
        ("Thanks\n-- \nBob\nACME", "Thanks"),
        ("Thanks\n\nSent from my iPhone", "Thanks"),
        ("Danke\n\nVon meinem iPhone gesendet", "Danke"),
        ("> only a quote\n", ""),
        ("From: the start of my answer is a word\nthat is not a header", "From: the start of my answer is a word\nthat is not a header"),
        ("On second thought, no.", "On second thought, no."),
    ])
    func trims(_ input: String, _ expected: String) {
        #expect(ReplyTrimmer.trim(input) == expected)
    }

    @Test func htmlReduction() {
        #expect(HTMLText.plainText("<p>a&amp;b</p><p>c<br>d</p><blockquote>old</blockquote><script>x()</script>") == "a&b\nc\nd\n> old")
        #expect(HTMLText.plainText("<ul><li>one</li><li>two</li></ul>&#x263A;&#9731;") == "- one\n- two\n☺☃")
    }
}
