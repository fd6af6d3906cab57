"""The demo project's facts, from the UNESCO report in ../shared/seeds/ (Viet Nam, 2016-2017).

Everything the report states is here as it states it. Where the report gives no figure
(the split of the USD 120,000 into budget lines, indicator baselines and targets), the
figure is illustrative and marked ``illustrative`` so the app and the export say so.
"""

from datetime import date, time

PROJECT = {
    "code": "KFIT-VNM-CI",
    "title": "Supporting the Implementation of the National Strategy for Cultural Industries in Viet Nam",
    "donor": "Korean Funds-in-Trust",
    "funding_source": "Korean Fund-in-Trust",
    "implementing_agency": "UNESCO Office in Ha Noi",
    "implementing_partners": "Ministry of Culture, Sports and Tourism",
    "grant_cents": 120_000_00,
    "currency": "USD",
    "start_date": date(2016, 1, 1),
    "end_date": date(2017, 12, 31),
    "country": "VN",
    "iati_identifier": "XM-DAC-41304-KFIT-VNM-CI",
    "iati_sector": "16061",  # DAC 5 "Culture and recreation": the report names no code (illustrative)
    "objective": (
        "to support the Government of Viet Nam to kick-start the implementation of the first National "
        "Strategy for Creative Industries by strengthening the policy framework, capacity, confidence and "
        "coordination of policy makers and practitioners."
    ),
    "summary": (
        "In September 2016 the Government of Viet Nam issued Decision No. 1755/QĐ-TTg (Quyết định "
        "1755/QĐ-TTg) to launch the National Strategy of the Development of Cultural Industries in Viet Nam "
        "toward 2020, vision 2030. From July 2016 a desk review examined creative clusters and the relevant "
        "policies and legal frameworks; field missions went to Hà Nội, Huế and Hồ Chí Minh City in August "
        "and September 2016, and a situation analysis report was drafted from the findings. On 24 November "
        "2016 a policy dialogue between creative hubs and government agencies was convened in Huế, followed "
        "by the exhibition \u201cThe Whisper\u201d, co-organised by UNESCO Ha Noi and the University of the "
        "Arts under Hue University."
    ),
    "status_note": "2016 activities delivered; pilot policy work planned for 2017.",
    "illustrative_note": (
        "Illustrative figures: the project report gives only the total budget (USD 120,000). The split into "
        "budget lines, the expenditures, and indicator baselines and targets marked \u201cillustrative\u201d "
        "are examples for this demo, not figures from the report."
    ),
}

# (code, level, parent code, statement, assumptions)
RESULTS = [
    ("1", "objective", None, PROJECT["objective"][0].upper() + PROJECT["objective"][1:],
     "The Government keeps the National Strategy for Cultural Industries as a priority.\n"
     "Policy makers and practitioners are willing to work together."),
    ("1.1", "outcome", "1",
     "The National Steering Committee for Creative Industries has increased their understanding of the "
     "creative industries and actively promotes their development",
     "Members of the Steering Committee take part in the dialogue and the exposure activities.\n"
     "Risk: turnover of officials in the Ministry."),
    ("1.2", "outcome", "1",
     "The policy framework for creative industries has been strengthened to create an enabling environment "
     "for the industries to flourish",
     "The National Steering Committee identifies one pilot sector.\n"
     "Risk: policy amendment takes longer than the project period."),
    ("1.1.1", "output", "1.1",
     "Policy makers are exposed to international best practice in supporting creative hubs",
     "International experts (British Council, Indochina Arts Partnership) are available."),
    ("1.1.2", "output", "1.1",
     "A platform for dialogue between State governing bodies and creative practitioners is set up",
     "Creative hubs in Hà Nội, Huế and Hồ Chí Minh City take part."),
    ("1.2.1", "output", "1.2",
     "Evidence on creative hubs in Viet Nam and their policy needs is available to policy makers",
     "Hubs and government agencies agree to be interviewed."),
    ("1.2.2", "output", "1.2",
     "Policy development or amendment is piloted in one sector identified by the National Steering Committee",
     "The Steering Committee names the sector in time for the 2017 work plan."),
]

# (code, result code, title, description, planned start, planned end, actual start, actual end,
#  status, % complete, responsible, locations)
ACTIVITIES = [
    ("A1", "1.1.1", "Raise awareness for policy makers through exposure to international best practice",
     "Main activity 1 of the project.", date(2016, 7, 1), date(2017, 6, 30), date(2016, 7, 1), None,
     "on_track", 60, "UNESCO Office in Ha Noi", "Hà Nội; Huế; Hồ Chí Minh City"),
    ("A1.1", "1.2.1", "Desk review on creative clusters in Viet Nam and relevant policies and legal frameworks",
     "A desk review conducted from July 2016 on the development of creative clusters in Viet Nam and relevant "
     "policies and legal frameworks.", date(2016, 7, 1), date(2016, 7, 31), date(2016, 7, 1), date(2016, 7, 31),
     "completed", 100, "National research team", "Hà Nội"),
    ("A1.2", "1.2.1", "Field missions to Hà Nội, Huế and Hồ Chí Minh City",
     "Interviews with managers and owners of creative hubs and senior officials of relevant government "
     "agencies, August and September 2016.", date(2016, 8, 1), date(2016, 9, 30), date(2016, 8, 1),
     date(2016, 9, 30), "completed", 100, "National research team", "Hà Nội; Huế; Hồ Chí Minh City"),
    ("A1.3", "1.2.1", "Situation analysis report on creative hubs in Viet Nam",
     "Report drafted by the research team from the desk review and the key findings of the field research.",
     date(2016, 10, 1), date(2016, 12, 31), date(2016, 10, 1), None, "on_track", 80,
     "Assoc. Prof Luong Hong Quang, Head of National Research team", "Hà Nội"),
    ("A1.4", "1.1.2", "Policy dialogue on creative hubs and creative industries in Huế",
     "Policy dialogue between representatives of creative hubs and relevant governmental agencies, Century "
     "Riverside Hotel, Huế, 24 November 2016, with the British Council in Viet Nam.",
     date(2016, 11, 24), date(2016, 11, 24), date(2016, 11, 24), date(2016, 11, 24), "completed", 100,
     "Ministry of Culture, Sports and Tourism, International Cooperation Department; UNESCO Ha Noi", "Huế"),
    ("A1.5", "1.1.1", "Exhibition \u201cThe Whisper\u201d",
     "Exhibition on the interconnection between contemporary arts and heritage, particularly traditional "
     "crafts, co-organised by UNESCO Ha Noi and the University of the Arts under Hue University; opened at "
     "New Space Art Foundation after the policy dialogue.", date(2016, 11, 24), date(2016, 11, 24),
     date(2016, 11, 24), date(2016, 11, 24), "completed", 100,
     "UNESCO Ha Noi; University of the Arts, Hue University", "Huế"),
    ("A2", "1.2.2",
     "Support policy development/amendment through piloting the development and implementation of one sector "
     "identified by the National Steering Committee",
     "Main activity 2 of the project.", date(2017, 1, 1), date(2017, 12, 31), None, None, "not_started", 0,
     "Ministry of Culture, Sports and Tourism; UNESCO Ha Noi", ""),
]

PERIODS = [
    (date(2016, 1, 1), date(2016, 6, 30)),
    (date(2016, 7, 1), date(2016, 12, 31)),
    (date(2017, 1, 1), date(2017, 6, 30)),
    (date(2017, 7, 1), date(2017, 12, 31)),
]

# Indicators. Baselines and end targets are illustrative unless the report states them;
# period actuals are only those the report supports. Period values are (target, actual).
INDICATORS = [
    {
        "code": "1.a", "result": "1", "unit": "yesno", "cumulative": False,
        "title": "National Strategy for Cultural Industries adopted by the Government",
        "baseline_value": 0, "baseline_date": date(2016, 1, 1), "baseline_note": "No strategy adopted yet.",
        "target_value": 1, "illustrative": True,
        "means_of_verification": "Decision No. 1755/QĐ-TTg (September 2016)", "frequency": "Yearly",
        "responsible": "UNESCO Office in Ha Noi",
        "periods": [(None, None), (1, 1), (None, None), (None, None)],
        "comments": {1: "Decision No. 1755/QĐ-TTg issued in September 2016."},
    },
    {
        "code": "1.1.a", "result": "1.1", "unit": "number", "cumulative": True,
        "title": "Policy dialogues held between creative hubs and government agencies",
        "baseline_value": 0, "baseline_date": date(2016, 1, 1), "target_value": 2, "illustrative": True,
        "means_of_verification": "Workshop agenda, attendance lists, press coverage", "frequency": "Half-yearly",
        "responsible": "Ministry of Culture, Sports and Tourism",
        "periods": [(0, 0), (1, 1), (1, None), (0, None)],
        "comments": {1: "Policy dialogue in Huế, 24 November 2016."},
    },
    {
        "code": "1.1.b", "result": "1.1", "unit": "number", "cumulative": True,
        "title": "Press articles published on the project",
        "baseline_value": 0, "baseline_date": date(2016, 1, 1), "target_value": 12, "illustrative": True,
        "means_of_verification": "Press clippings with agency, date and link", "frequency": "Half-yearly",
        "responsible": "UNESCO Office in Ha Noi",
        "periods": [(0, 0), (6, 9), (3, None), (3, None)],
        "comments": {1: "Nine press clippings, July to November 2016."},
        "dimensions": [("Language", ["Vietnamese", "English"], {1: [8, 1]})],
    },
    {
        "code": "1.2.a", "result": "1.2", "unit": "number", "cumulative": False,
        "title": "Cities covered by the field research on creative hubs",
        "baseline_value": 0, "baseline_date": date(2016, 1, 1), "target_value": 3, "illustrative": True,
        "means_of_verification": "Situation analysis report; field mission reports", "frequency": "Half-yearly",
        "responsible": "National research team",
        "periods": [(None, None), (3, 3), (None, None), (None, None)],
        "comments": {1: "Hà Nội, Huế and Hồ Chí Minh City, August-September 2016."},
        "dimensions": [("City", ["Hà Nội", "Huế", "Hồ Chí Minh City"], {1: [1, 1, 1]})],
    },
    {
        "code": "1.2.b", "result": "1.2", "unit": "yesno", "cumulative": False,
        "title": "Situation analysis report on creative hubs drafted",
        "baseline_value": 0, "baseline_date": date(2016, 1, 1), "target_value": 1, "illustrative": True,
        "means_of_verification": "Situation analysis report", "frequency": "Half-yearly",
        "responsible": "National research team",
        "periods": [(None, None), (1, 1), (None, None), (None, None)],
        "comments": {1: "Drafted by the research team after the field missions."},
    },
    {
        "code": "1.2.c", "result": "1.2.2", "unit": "qualitative", "cumulative": False,
        "title": "Progress of the policy framework for the pilot sector",
        "baseline_text": "No policy support specific to creative hubs.", "baseline_date": date(2016, 1, 1),
        "target_text": "Policy for one pilot sector drafted and under implementation", "illustrative": True,
        "means_of_verification": "Draft policy documents; minutes of the National Steering Committee",
        "frequency": "Half-yearly", "responsible": "Ministry of Culture, Sports and Tourism",
        "periods_text": [("", ""), ("Recommendations on policy support for creative hubs",
                                    "Recommendations on policy support for creative hubs summarised at the "
                                    "Huế policy dialogue (24 November 2016)"),
                         ("Pilot sector identified", ""), ("Draft policy submitted", "")],
    },
]

POLICY_DIALOGUE = {
    "activity": "A1.4", "kind": "workshop",
    "title": "Policy Dialogue on Creative hubs and Creative industries",
    "starts_on": date(2016, 11, 24), "venue": "Century Riverside Hotel", "city": "Huế",
    "description": "The agenda's heading reads \u201cHa Noi, 24th November 2016\u201d; the dialogue took "
                   "place at the Century Riverside Hotel, Hue City.",
}

# (section, start, end, title, speakers)
AGENDA = [
    ("", time(8, 0), time(8, 30), "Registration of participants", ""),
    ("", time(8, 30), time(8, 35), "Introduction to delegates and workshop agenda", ""),
    ("", time(8, 35), time(8, 45), "Opening speech", "Head of UNESCO Office in Hanoi"),
    ("", time(8, 45), time(8, 55), "Welcoming speech",
     "Representative of Ministry of Culture, Sports and Tourism International Cooperation"),
    ("Section 1: Operational status Overview of the Creative spaces in Vietnam", time(8, 55), time(9, 15),
     "Introduction to independent survey report on creative hubs in Viet Nam", "Representative of British Council"),
    ("Section 1: Operational status Overview of the Creative spaces in Vietnam", time(9, 15), time(9, 30),
     "Introduction to successful models of Creative hubs in Vietnam: Ha Noi Creative City", "Mr. Doan Ky Thanh"),
    ("Section 1: Operational status Overview of the Creative spaces in Vietnam", time(9, 30), time(9, 45),
     "Introduction to successful models of Creative hubs in Vietnam: 3A", "Ms. Mai Trinh"),
    ("Section 1: Operational status Overview of the Creative spaces in Vietnam", time(9, 45), time(10, 0),
     "Introduction to successful models of Creative hubs in Vietnam: New Space Art Foundation",
     "Mr. Le Thanh Hai and Mr. Le Thanh Ngoc"),
    ("", time(10, 0), time(10, 15), "Break time", ""),
    ("Section 2: International good practices in supporting Creative hubs", time(10, 15), time(10, 45),
     "The role of Creative hubs in Creative economy and recommendations on supporting policies",
     "Mr. Andy Pratt, British Council expert"),
    ("Section 2: International good practices in supporting Creative hubs", time(10, 45), time(11, 0),
     "Supporting policies for Cultural industries - Good practices from the US and some Asian countries",
     "Ms. Nhung Walsh (Indochina Arts Partnership)"),
    ("Section 3: Towards a policy framework to support Creative hubs in Vietnam", time(11, 0), time(11, 30),
     "Towards a policy framework to support Creative hubs in Vietnam",
     "Assoc. Prof Luong Hong Quang, Head of National Research team"),
    ("Section 4: Open discussion: Dialogue between representatives of policy makers, creative practitioners "
     "and creative hubs' owners/managers", time(11, 30), time(12, 0), "Open discussion",
     "Facilitator: Ms. Nguyen Phuong Hoa, Deputy Director of International Cooperation Department and "
     "Pham Thi Thanh Huong, Chief of Culture Unit (a.i.), UNESCO Ha Noi"),
    ("", time(12, 0), time(12, 15), "Summarizations of recommendations and Closing workshop", ""),
    ("", time(12, 30), time(13, 30), "Lunch", ""),
    ("", time(14, 0), time(15, 0), "Attend the opening of \u201cThe whispers\u201d exhibition at New Space Art "
     "Foundation", ""),
    ("", time(15, 30), time(16, 30), "Visit Truc Chi Gallery", ""),
]

OTHER_EVENTS = [
    {"activity": "A1.1", "kind": "research", "title": "Desk review on creative clusters starts",
     "starts_on": date(2016, 7, 1), "city": "Hà Nội",
     "description": "Desk review on the development of creative clusters in Viet Nam and relevant policies "
                    "and legal frameworks."},
    {"activity": "A1.2", "kind": "mission", "title": "Field missions to Hà Nội, Huế and Hồ Chí Minh City",
     "starts_on": date(2016, 8, 1), "ends_on": date(2016, 9, 30), "city": "Hà Nội; Huế; Hồ Chí Minh City",
     "description": "Interviews with managers and owners of creative hubs and senior officials from relevant "
                    "government agencies."},
    {"activity": None, "kind": "milestone",
     "title": "Decision No. 1755/QĐ-TTg launches the National Strategy of the Development of Cultural "
              "Industries in Viet Nam toward 2020, vision 2030",
     "starts_on": date(2016, 9, 8), "city": "Hà Nội",
     "description": "Issued by the Government of Viet Nam in September 2016 (Quyết định số 1755/QĐ-TTg). The "
                    "Strategy names Ha Noi, Da Nang, Ho Chi Minh City and provinces with UNESCO World "
                    "Heritage sites as centres for cultural industries."},
    {"activity": "A1.5", "kind": "exhibition", "title": "Exhibition \u201cThe Whisper\u201d opens",
     "starts_on": date(2016, 11, 24), "venue": "New Space Art Foundation", "city": "Huế",
     "description": "Co-organised by UNESCO Ha Noi and the University of the Arts under Hue University."},
]

# Illustrative split of the USD 120,000 (the report gives only the total).
# (code, category, account code, description, amount in USD, {activity code: percent})
BUDGET_LINES = [
    ("BL1", "contracts_research", "5000", "Research and field missions (desk review, field research in three "
     "cities, situation analysis)", 30_000, {"A1.1": 30, "A1.2": 50, "A1.3": 20}),
    ("BL2", "personnel", "5100", "International expertise (British Council and other experts)", 20_000,
     {"A1.4": 50, "A2": 50}),
    ("BL3", "meetings_workshops", "5200", "Policy dialogue in Huế", 25_000, {"A1.4": 100}),
    ("BL4", "contracts_research", "5000", "Pilot policy work in one sector", 25_000, {"A2": 100}),
    ("BL5", "communication_publications", "5300", "Communication, press and the exhibition \u201cThe Whisper\u201d",
     8_000, {"A1.5": 60, "A1.4": 40}),
    ("BL6", "project_support_costs", "5900", "Project support costs", 12_000, {"A1": 50, "A2": 50}),
]

# Illustrative expenditures (the report gives none). (voucher, date, line, USD, payee, description, status,
# original amount, currency, rate)
EXPENDITURES = [
    ("V-2016-001", date(2016, 7, 29), "BL1", "6000.00", "National research team",
     "Desk review, first instalment (illustrative)", "disbursed", None, "", None),
    ("V-2016-002", date(2016, 9, 30), "BL1", "9500.00", "National research team",
     "Field missions to Hà Nội, Huế and Hồ Chí Minh City (illustrative)", "disbursed",
     "212325000", "VND", "22350"),
    ("V-2016-003", date(2016, 11, 25), "BL3", "14250.00", "Century Riverside Hotel, Huế",
     "Venue, interpretation and travel for the policy dialogue (illustrative)", "disbursed", None, "", None),
    ("V-2016-004", date(2016, 11, 25), "BL2", "7500.00", "British Council expert",
     "International expertise for the policy dialogue (illustrative)", "disbursed", None, "", None),
    ("V-2016-005", date(2016, 11, 28), "BL5", "3200.00", "New Space Art Foundation",
     "Exhibition \u201cThe Whisper\u201d (illustrative)", "disbursed", None, "", None),
    ("V-2016-006", date(2016, 12, 15), "BL1", "4500.00", "National research team",
     "Situation analysis report, final instalment (illustrative)", "committed", None, "", None),
]

# The report's nine press clippings: (agency, date, title, link, language).
PRESS_CLIPPINGS = [
    ("Song Huong Magazine", date(2016, 11, 26),
     "A policy dialogue on the role of creative hubs in the creative economy in Viet Nam",
     "http://tapchisonghuong.com.vn/hue/p1/c13/n24804/Hoi-thao-Doi-thoai-ve-vai-tro-cua-cac-khong-gian-sang-tao-"
     "trong-nen-kinh-te-sang-tao-tai-Viet-Nam.html", "vi"),
    ("National Times", date(2016, 11, 25),
     "A policy dialogue on the role of creative hubs in the creative economy in Viet Nam",
     "http://toquoc.vn/cua-so-van-hoa/hoi-thao-doi-thoai-ve-vai-tro-cua-cac-khong-gian-sang-tao-trong-nen-"
     "kinh-te-sang-tao-tai-viet-nam-220310.html", "vi"),
    ("UN Website", date(2016, 11, 24),
     "Creative hubs in Viet Nam receive spotlight during National policy dialogue",
     "http://www.un.org.vn/en/unesco-agencypresscenter1-100/4285-creative-hubs-in-viet-nam-receive-spotlight-"
     "during-national-policy-dialogue.html", "en"),
    ("Song Huong Magazine", date(2016, 10, 12),
     "A policy dialogue on creative hubs in Viet Nam to take place in Hue",
     "http://tapchisonghuong.com.vn/hue/p1/c134/n24513/Hoi-thao-Doi-thoai-chinh-sach-ve-vai-tro-cua-khong-"
     "gian-sang-tao-trong-nen-kinh-te-sang-tao-dien-ra-tai-Hue-va-ngay-23-24-11.html", "vi"),
    ("Education Online", date(2016, 7, 19),
     "A project to promote policy dialogue on creative hubs in Viet Nam",
     "http://www.giaoduc.edu.vn/du-an-doi-thoai-ve-khong-gian-sang-tao-tai-viet-nam.htm", "vi"),
    ("Culture Online", date(2016, 7, 18), "Policy dialogue on creative hubs in Viet Nam",
     "http://www.baovanhoa.vn/vanhoavannghes/83485.vho", "vi"),
    ("Thanh Nien Online", date(2016, 7, 16), "\u201cPolicy dialogue on creative hubs in Viet Nam\u201d project launched",
     "http://thanhvien.vn/van-hoa/khoi-dong-du-an-ve-khong-gian-sang-tao-tai-viet-nam-723701.html", "vi"),
    ("Viet Nam Culture Information Network", date(2016, 7, 14),
     "\u201cPolicy dialogue on creative hubs in Viet Nam\u201d project launched",
     "http://cinet.vn/articledetail.aspx?articleid=28643&sitepageid=418#sthash.PHQJBjXS.NGX5g4ED.dpbs", "vi"),
    ("Website of Hue's Department of Culture and Sports", date(2016, 11, 25),
     "Workshop on the role of creative hubs in the creative economy of Viet Nam",
     "https://svhtt.thuathienhue.gov.vn/?gd=13&cn=28&tc=4279", "vi"),
]

# Other evidence named in the report: (kind, title, date, source, language, description, links)
# links: list of ("activity"|"result", code)
OTHER_EVIDENCE = [
    ("agenda", "Workshop agenda: Policy Dialogue on Creative hubs and Creative industries", date(2016, 11, 24),
     "UNESCO Office in Ha Noi", "en",
     "Agenda of the policy dialogue, Century Riverside Hotel, Hue City, Thursday 24 November 2016: four sections, "
     "speakers from UNESCO, the Ministry, the British Council and Indochina Arts Partnership.",
     [("activity", "A1.4"), ("result", "1.1.2")]),
    ("report", "Situation analysis report on creative hubs in Viet Nam (draft)", date(2016, 12, 15),
     "National research team", "vi",
     "Drafted by the research team from the desk review and the key findings of the field research in Hà Nội, "
     "Huế and Hồ Chí Minh City.", [("activity", "A1.3"), ("result", "1.2.1")]),
    ("decision", "Decision No. 1755/QĐ-TTg on the National Strategy of the Development of Cultural Industries "
     "in Viet Nam toward 2020, vision 2030", date(2016, 9, 8), "Government of Viet Nam", "vi",
     "Quyết định số 1755/QĐ-TTg, September 2016.", [("result", "1")]),
]

# One account per role; `make run` prints them. Turned off with TRACKER_DEMO_ACCOUNTS=0.
DEMO_ACCOUNTS = [
    ("admin@demo.test", "Demo Admin", "demo-admin-pass", None),
    ("manager@demo.test", "Nguyễn Thị Mai (manager)", "demo-manager-pass", "manager"),
    ("officer@demo.test", "Trần Văn Hùng (project officer)", "demo-officer-pass", "officer"),
    ("liaison@demo.test", "Lê Thu Hà (donor liaison)", "demo-liaison-pass", "liaison"),
    ("auditor@demo.test", "Phạm Quốc Bảo (auditor)", "demo-auditor-pass", "auditor"),
]

# --- Narratives (issue 16) -----------------------------------------------------------------------
# Drawn from the report's "Highlight stories in 2016" (the desk review, the field missions, the
# situation analysis and the Huế policy dialogue of 24 November 2016). Sentences the report does
# not state (what comes next, the first half of 2016) begin with "Illustrative:" so the page, the
# workbook and the IATI file say so where the text is read.
ILLUSTRATIVE_PREFIX = "Illustrative: "

# Indicator period narratives: {indicator code: {period index: (narrative, variance explanation)}}.
PERIOD_NARRATIVES = {
    "1.a": {1: ("In September 2016 the Government issued Decision No. 1755/QĐ-TTg launching the National "
                "Strategy of the Development of Cultural Industries in Viet Nam toward 2020, vision 2030.", "")},
    "1.1.a": {1: ("A policy dialogue between representatives of creative hubs and relevant government agencies "
                  "was convened at the Century Riverside Hotel, Huế, on 24 November 2016, with the British "
                  "Council in Viet Nam.", "")},
    "1.1.b": {1: ("Nine press clippings, from 12 October to 26 November 2016, covered the policy dialogue and "
                  "the exhibition \u201cThe Whisper\u201d.",
                  "Illustrative: coverage exceeded the target of six articles because national and Huế media "
                  "reported on the policy dialogue both before and after 24 November 2016.")},
    "1.2.a": {1: ("Field missions went to Hà Nội, Huế and Hồ Chí Minh City in August and September 2016; "
                  "managers and owners of creative hubs and senior officials of government agencies were "
                  "interviewed.", "")},
    "1.2.b": {1: ("A situation analysis report was drafted by the research team from the desk review (from "
                  "July 2016) and the key findings of the field research.", "")},
    "1.2.c": {1: ("Recommendations on policy support for creative hubs were summarised at the close of the Huế "
                  "policy dialogue.", "")},
}

# Result narratives for a reporting period: (result code, period index, text).
RESULT_NARRATIVES = [
    ("1", 0, "Illustrative: the project started in January 2016; its activities began with the desk review in "
             "July 2016, so nothing was reported for the first half of the year."),
    ("1", 1, "What changed: the Government issued Decision No. 1755/QĐ-TTg in September 2016, launching the "
             "National Strategy for cultural industries toward 2020, vision 2030. Why: the project's research and "
             "the Huế dialogue gave the Strategy's first steps evidence on creative hubs and a platform for "
             "policy makers and practitioners. Illustrative: next, the National Steering Committee is to identify "
             "the pilot sector for 2017."),
    ("1.1", 1, "What changed: on 24 November 2016 the Ministry of Culture, Sports and Tourism, UNESCO and the "
               "British Council convened a policy dialogue in Huế between creative hubs and government "
               "agencies, followed by the exhibition \u201cThe Whisper\u201d. Why: the dialogue sets up a platform "
               "for communication and cooperation between State governing bodies and creative practitioners and "
               "raises stakeholders' awareness. Illustrative: next, a second dialogue in 2017."),
    ("1.2", 1, "What changed: a desk review (from July 2016), field missions to Hà Nội, Huế and Hồ Chí Minh "
               "City (August-September 2016) and a situation analysis report give policy makers evidence on "
               "creative hubs. Why: recommendations on policy support for creative hubs were discussed at the "
               "Huế dialogue. Illustrative: next, the situation analysis is finalised and the pilot sector "
               "chosen."),
    ("1.1.1", 1, "Policy makers heard international good practice at the Huế dialogue: Mr. Andy Pratt (British "
                 "Council expert) on the role of creative hubs in the creative economy, and Ms. Nhung Walsh "
                 "(Indochina Arts Partnership) on supporting policies in the US and Asian countries."),
    ("1.1.2", 1, "The Huế policy dialogue of 24 November 2016 brought representatives of creative hubs and "
                 "government agencies together in an open discussion facilitated by the International "
                 "Cooperation Department and UNESCO Ha Noi."),
    ("1.2.1", 1, "The desk review and the field missions were completed, and the research team drafted the "
                 "situation analysis report on creative hubs in Viet Nam."),
]
