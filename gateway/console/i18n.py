"""The console's languages: English, Simplified and Traditional Chinese.

One catalog holds every sentence the console shows, the server-rendered ones and the ones the
browser script builds (it gets the catalog of the page's language as a JSON data block), so a
translation is never missing on one side only. ``{name}`` placeholders are filled by the caller.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
ORGS = ("LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP", "MacaoPartnerMSP")
LANGUAGE_NAMES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文"}

# Accept-Language tags of Traditional Chinese regions; any other "zh" is Simplified.
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def language_of_tag(tag: str) -> str | None:
    """The console language for one Accept-Language tag (``zh-HK`` -> ``zh-Hant``), or None."""
    parts = tag.lower().replace("_", "-").split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    if "hant" in parts[1:] or _TRADITIONAL_REGIONS & set(parts[1:]):
        return "zh-Hant"
    return "zh-Hans"


def negotiate(accept_languages) -> str:
    """The best console language for werkzeug's ``request.accept_languages`` (best first)."""
    for tag, _quality in accept_languages:
        language = language_of_tag(tag)
        if language:
            return language
    return "en"


# key: (English, 简体中文, 繁體中文)
_CATALOG: dict[str, tuple[str, str, str]] = {
    # frame
    "app.name": ("carbonlease console", "碳租赁控制台", "碳租賃控制台"),
    "nav.label": ("Main", "主导航", "主導覽"),
    "nav.skip": ("Skip to content", "跳到正文", "跳到正文"),
    "nav.projects": ("Project library", "项目库", "項目庫"),
    "nav.leases": ("Leases", "租赁合同", "租賃合約"),
    "nav.new_lease": ("New lease", "新建租赁", "新增租賃"),
    "nav.reports": ("Emission reports", "排放报告", "排放報告"),
    "nav.network": ("Network", "网络", "網絡"),
    "nav.sign_out": ("Sign out", "退出", "登出"),
    "nav.language": ("Language", "语言", "語言"),
    "console.of": ("Console of {org}", "{org}控制台", "{org}控制台"),
    "loading": ("Loading…", "加载中…", "載入中…"),
    "none": ("Nothing yet.", "暂无内容。", "暫無內容。"),
    "refresh": ("Refresh", "刷新", "重新整理"),
    "more": ("More", "更多", "更多"),
    "any": ("Any", "全部", "全部"),
    "apply_filter": ("Filter", "筛选", "篩選"),
    "done.block": ("Done: committed in block {block}.", "已完成：写入区块 {block}。",
                   "已完成：寫入區塊 {block}。"),
    "detail": ("Technical detail", "技术细节", "技術細節"),
    "yes": ("yes", "是", "是"),
    "no": ("no", "否", "否"),
    # orgs
    "org.LessorMSP": ("the leasing company (LessorMSP)", "融资租赁公司（LessorMSP）",
                      "融資租賃公司（LessorMSP）"),
    "org.GridMSP": ("the power grid (GridMSP)", "电网公司（GridMSP）", "電網公司（GridMSP）"),
    "org.RegulatorMSP": ("the regulator (RegulatorMSP)", "监管机构（RegulatorMSP）",
                         "監管機構（RegulatorMSP）"),
    "org.HKPartnerMSP": ("the Hong Kong partner (HKPartnerMSP)", "香港合作方（HKPartnerMSP）",
                         "香港合作方（HKPartnerMSP）"),
    "org.MacaoPartnerMSP": ("the Macao partner (MacaoPartnerMSP)", "澳门合作方（MacaoPartnerMSP）",
                            "澳門合作方（MacaoPartnerMSP）"),
    "or": (" or ", "或", "或"),
    # sign-in
    "signin.title": ("Sign in", "登录", "登入"),
    "signin.key": ("API key", "API 密钥", "API 金鑰"),
    "signin.help": ("Your organisation's administrator gives you a key. It is kept in this "
                    "browser tab only and forgotten when you close it.",
                    "密钥由贵机构的管理员发放，只保存在本浏览器标签页中，关闭即清除。",
                    "金鑰由貴機構的管理員發放，只保存在本瀏覽器分頁中，關閉即清除。"),
    "signin.submit": ("Sign in", "登录", "登入"),
    "signin.needed": ("Sign in first.", "请先登录。", "請先登入。"),
    # projects
    "projects.title": ("Green project library", "绿色项目库", "綠色項目庫"),
    "projects.filters": ("Filter projects", "筛选项目", "篩選項目"),
    "project.id": ("Project id", "项目编号", "項目編號"),
    "project.name": ("Name", "名称", "名稱"),
    "project.category": ("Category", "类别", "類別"),
    "project.location": ("Location", "地点", "地點"),
    "project.owner": ("Owner", "所有方", "所有方"),
    "project.reduction": ("Expected reduction (kgCO2e a year)", "预计年减排量（kgCO2e）",
                          "預計年減排量（kgCO2e）"),
    "project.registered_at": ("Registered", "登记时间", "登記時間"),
    "project.register": ("Register a project", "登记项目", "登記項目"),
    "project.register_submit": ("Register", "登记", "登記"),
    "project.interests": ("Partners' interest", "合作方意向", "合作方意向"),
    "project.express": ("Express interest", "表达投资意向", "表達投資意向"),
    "project.express_submit": ("Send", "提交", "提交"),
    "interest.partner": ("Partner", "合作方", "合作方"),
    "interest.amount": ("Amount (yuan)", "金额（元）", "金額（元）"),
    "interest.note": ("Note", "备注", "備註"),
    "interest.at": ("When", "时间", "時間"),
    "category.clean_energy": ("Clean energy", "清洁能源", "清潔能源"),
    "category.energy_storage": ("Energy storage", "储能", "儲能"),
    "category.ev": ("Electric vehicles", "新能源汽车", "新能源汽車"),
    "category.energy_saving": ("Energy saving", "节能改造", "節能改造"),
    # leases
    "leases.title": ("Leases", "租赁合同", "租賃合約"),
    "leases.filters": ("Filter leases", "筛选租赁合同", "篩選租賃合約"),
    "lease.id": ("Lease id", "合同编号", "合約編號"),
    "lease.lessee": ("Lessee", "承租人", "承租人"),
    "lease.lessee_ref": ("Lessee reference", "承租人代号", "承租人代號"),
    "lease.lessee_id": ("Lessee id (private)", "承租人编号（保密）", "承租人編號（保密）"),
    "lease.lessee_name": ("Lessee name (private)", "承租人名称（保密）", "承租人名稱（保密）"),
    "lease.terms_hash": ("Terms hash (SHA-256)", "条款哈希（SHA-256）", "條款雜湊（SHA-256）"),
    "lease.project": ("Project", "项目", "項目"),
    "lease.status": ("Status", "状态", "狀態"),
    "lease.created_at": ("Created", "创建时间", "建立時間"),
    "lease.rate_now": ("Current rate", "当前利率", "當前利率"),
    "lease.fixed_through": ("Rates fixed through period", "已定价至第几期", "已定價至第幾期"),
    "lease.paid_through": ("Paid through period", "已还款至第几期", "已還款至第幾期"),
    "status.draft": ("draft", "草稿", "草稿"),
    "status.active": ("active", "生效中", "生效中"),
    "status.terminated": ("terminated", "已终止", "已終止"),
    "status.matured": ("matured", "已到期", "已到期"),
    "status.submitted": ("submitted", "待核验", "待核驗"),
    "status.verified": ("verified", "已核验", "已核驗"),
    "status.rejected": ("rejected", "已驳回", "已駁回"),
    "status.superseded": ("superseded", "已被替代", "已被取代"),
    "terms.title": ("Terms", "合同条款", "合約條款"),
    "terms.hidden": ("The lessee, terms, schedule and rate fixes of this lease are private to "
                     "the leasing company and the regulator; this gateway shows its public "
                     "record only.",
                     "本合同的承租人、条款、还款计划和利率调整仅对融资租赁公司和监管机构可见；"
                     "本网关仅显示其公开记录。",
                     "本合約的承租人、條款、還款計劃及利率調整僅對融資租賃公司及監管機構可見；"
                     "本網關僅顯示其公開記錄。"),
    "terms.purged": ("The private records of this lease were purged on {date}; its public "
                     "record and their hashes remain.",
                     "本合同的保密记录已于 {date} 清除；其公开记录及哈希仍保留。",
                     "本合約的保密記錄已於 {date} 清除；其公開記錄及雜湊仍保留。"),
    "terms.principal": ("Principal (yuan)", "本金（元）", "本金（元）"),
    "terms.base_rate": ("Base rate (basis points a year)", "基准年利率（基点）",
                        "基準年利率（基點）"),
    "terms.term_periods": ("Number of periods", "期数", "期數"),
    "terms.period_months": ("Months per period", "每期月数", "每期月數"),
    "terms.amortization": ("Repayment", "还款方式", "還款方式"),
    "amortization.annuity": ("equal instalments", "等额本息", "等額本息"),
    "amortization.equal_principal": ("equal principal", "等额本金", "等額本金"),
    "terms.start_date": ("Start date", "起始日", "起始日"),
    "terms.baseline": ("Baseline emissions per period (kgCO2e)", "每期基准排放（kgCO2e）",
                       "每期基準排放（kgCO2e）"),
    "terms.reduction": ("Agreed yearly cut (basis points of the baseline)",
                        "约定年减排（基准的基点）", "約定年減排（基準的基點）"),
    "terms.ratchet": ("Ratchet tiers", "棘轮档位", "棘輪檔位"),
    "terms.tier_min": ("Performance at least (bps)", "绩效不低于（基点）", "績效不低於（基點）"),
    "terms.tier_adj": ("Rate adjustment (bps)", "利率调整（基点）", "利率調整（基點）"),
    "terms.cap": ("Cap: largest surcharge (bps)", "上限：最大加点（基点）", "上限：最大加點（基點）"),
    "terms.floor": ("Floor: largest discount (bps, 0 or less)", "下限：最大减点（基点，≤0）",
                    "下限：最大減點（基點，≤0）"),
    "terms.missing": ("Adjustment when no verified report (bps)", "无核验报告时的调整（基点）",
                      "無核驗報告時的調整（基點）"),
    "schedule.title": ("Payment schedule", "还款计划", "還款計劃"),
    "schedule.caption": ("Rows after the last fixed period project the base rate.",
                         "最后一个已定价期之后的各行按基准利率预估。",
                         "最後一個已定價期之後的各行按基準利率預估。"),
    "col.period": ("Period", "期次", "期次"),
    "col.rate": ("Rate", "利率", "利率"),
    "col.adjustment": ("Adjustment", "调整", "調整"),
    "col.interest": ("Interest", "利息", "利息"),
    "col.principal": ("Principal", "本金", "本金"),
    "col.instalment": ("Instalment", "期供", "期供"),
    "col.outstanding": ("Outstanding after", "剩余本金", "剩餘本金"),
    "col.fixed": ("Fixed", "已定价", "已定價"),
    "chart.rate": ("Rate per period, with base rate, cap and floor",
                   "各期利率及基准利率、上限、下限", "各期利率及基準利率、上限、下限"),
    "chart.emissions": ("Verified emissions against the target path",
                        "核验排放与目标路径对比", "核驗排放與目標路徑對比"),
    "series.rate": ("Rate (%)", "利率（%）", "利率（%）"),
    "series.base": ("Base rate (%)", "基准利率（%）", "基準利率（%）"),
    "series.cap": ("Cap (%)", "上限（%）", "上限（%）"),
    "series.floor": ("Floor (%)", "下限（%）", "下限（%）"),
    "series.target": ("Target (kgCO2e)", "目标（kgCO2e）", "目標（kgCO2e）"),
    "series.verified": ("Verified (kgCO2e)", "核验值（kgCO2e）", "核驗值（kgCO2e）"),
    "chart.no_library": ("Charts are unavailable: the gateway does not serve Chart.js.",
                         "图表不可用：网关未提供 Chart.js。", "圖表不可用：網關未提供 Chart.js。"),
    "fixes.title": ("Rate fixes and their inputs", "利率调整及其依据", "利率調整及其依據"),
    "fix.period": ("Rate of period", "定价期次", "定價期次"),
    "fix.based_on": ("From period", "依据期次", "依據期次"),
    "fix.report": ("Report", "报告", "報告"),
    "fix.verified": ("Verified (kg)", "核验排放（kg）", "核驗排放（kg）"),
    "fix.target": ("Target (kg)", "目标（kg）", "目標（kg）"),
    "fix.performance": ("Performance (bps)", "绩效（基点）", "績效（基點）"),
    "fix.tier": ("Tier reached", "达到档位", "達到檔位"),
    "fix.basis": ("Basis", "依据", "依據"),
    "basis.tier": ("tier", "档位", "檔位"),
    "basis.no_tier_cap": ("no tier: cap", "未达任何档位：上限", "未達任何檔位：上限"),
    "basis.missing_report": ("no verified report", "无核验报告", "無核驗報告"),
    "tier.at_least": ("≥ {bps} bps", "≥ {bps} 基点", "≥ {bps} 基點"),
    "actions.title": ("Actions", "操作", "操作"),
    "action.activate": ("Activate the lease", "启用合同", "啟用合約"),
    "action.fix_rate": ("Fix the next period's rate", "确定下一期利率", "確定下一期利率"),
    "action.pay": ("Record the payment of period {period}", "登记第 {period} 期还款",
                   "登記第 {period} 期還款"),
    "payment.paid_on": ("Paid on", "还款日期", "還款日期"),
    "action.only": ("Only {orgs} may do this.", "只有{orgs}可以执行此操作。",
                    "只有{orgs}可以執行此操作。"),
    # new lease
    "new.title": ("New lease", "新建租赁合同", "新增租賃合約"),
    "new.ids": ("Parties", "合同方", "合約方"),
    "new.parties_help": ("The lessee reference is public: meter readings and emission reports "
                         "name the lessee by it. The lessee's id and name and the terms below "
                         "are private to the leasing company and the regulator.",
                         "承租人代号为公开信息，电表读数和排放报告以此指代承租人。承租人编号、"
                         "名称及以下条款仅对融资租赁公司和监管机构可见。",
                         "承租人代號為公開資訊，電錶讀數及排放報告以此指代承租人。承租人編號、"
                         "名稱及以下條款僅對融資租賃公司及監管機構可見。"),
    "new.emissions": ("Assumed verified emissions each period, for the preview (kgCO2e; "
                      "empty: none reported)", "预览假设的每期核验排放（kgCO2e；留空表示未报告）",
                      "預覽假設的每期核驗排放（kgCO2e；留空表示未報告）"),
    "new.preview": ("Preview", "预览", "預覽"),
    "new.preview_help": ("The preview follows the form as you type; nothing is written until "
                         "you create the lease.", "预览随输入即时更新；创建合同前不会写入任何数据。",
                         "預覽隨輸入即時更新；建立合約前不會寫入任何資料。"),
    "new.create": ("Create the lease", "创建合同", "建立合約"),
    # reports
    "reports.title": ("Emission reports", "排放报告", "排放報告"),
    "reports.filters": ("Filter reports", "筛选报告", "篩選報告"),
    "report.id": ("Report id", "报告编号", "報告編號"),
    "report.period": ("Period", "期间", "期間"),
    "report.period_start": ("Period start", "期间开始", "期間開始"),
    "report.period_end": ("Period end (exclusive)", "期间结束（不含）", "期間結束（不含）"),
    "report.scope1": ("Scope 1 (kg)", "范围一（kg）", "範圍一（kg）"),
    "report.scope2": ("Scope 2 (kg)", "范围二（kg）", "範圍二（kg）"),
    "report.total": ("Total (kg)", "合计（kg）", "合計（kg）"),
    "report.readings": ("Meter readings and factors", "电表读数与排放因子", "電錶讀數與排放因子"),
    "report.reading_ids": ("Meter reading ids (comma separated)", "电表读数编号（逗号分隔）",
                           "電錶讀數編號（逗號分隔）"),
    "report.evidence": ("Evidence document", "证明文件", "證明文件"),
    "report.evidence_hash": ("Evidence SHA-256", "证明文件 SHA-256", "證明文件 SHA-256"),
    "report.submit": ("Submit an emission report", "提交排放报告", "提交排放報告"),
    "report.submit_button": ("Submit report", "提交报告", "提交報告"),
    "report.verify": ("Verify", "核验通过", "核驗通過"),
    "report.reject": ("Reject", "驳回", "駁回"),
    "report.reason": ("Reason for rejection", "驳回理由", "駁回理由"),
    "report.queue": ("Reports", "报告", "報告"),
    "reading.id": ("Reading id", "读数编号", "讀數編號"),
    "reading.facility": ("Facility", "设施", "設施"),
    "reading.region": ("Grid region", "电网区域", "電網區域"),
    "reading.year": ("Year", "年份", "年份"),
    "reading.kwh": ("Electricity (kWh)", "用电量（kWh）", "用電量（kWh）"),
    "reading.factor": ("Factor (g/kWh)", "排放因子（g/kWh）", "排放因子（g/kWh）"),
    "reading.factor_version": ("Factor version", "因子版本", "因子版本"),
    "reading.submit": ("Submit a meter reading", "提交电表读数", "提交電錶讀數"),
    "reading.submit_button": ("Submit reading", "提交读数", "提交讀數"),
    "factor.publish": ("Publish an emission factor", "发布排放因子", "發佈排放因子"),
    "factor.publish_button": ("Publish", "发布", "發佈"),
    # network
    "network.title": ("Network", "网络状态", "網絡狀態"),
    "network.gateway": ("Gateway of", "网关所属", "網關所屬"),
    "network.height": ("Peer height (blocks)", "节点区块高度", "節點區塊高度"),
    "network.read_model": ("Read model position", "读模型进度", "讀模型進度"),
    "network.chaincode": ("Chaincode", "链码", "鏈碼"),
    "network.listening": ("Following events", "正在跟随事件", "正在跟隨事件"),
    "network.block": ("Last applied block", "最后应用区块", "最後套用區塊"),
    "network.dead_letters": ("Dead letters (events it could not apply)",
                             "死信（无法应用的事件）", "死信（無法套用的事件）"),
    "network.dead_letter_count": ("Dead letters", "死信数", "死信數"),
    "network.unreachable": ("The peer does not answer.", "节点无响应。", "節點無回應。"),
    # errors, as sentences
    "err.network": ("The gateway did not answer. Check the connection and try again.",
                    "网关没有响应，请检查网络后重试。", "網關沒有回應，請檢查網絡後重試。"),
    "err.UNAUTHENTICATED": ("This API key was not accepted. Sign in again with a valid key.",
                            "该 API 密钥未被接受，请使用有效密钥重新登录。",
                            "該 API 金鑰未被接受，請使用有效金鑰重新登入。"),
    "err.role": ("Your key has the role “{role}”; this needs a “{required}” key.",
                 "您的密钥角色为“{role}”，此操作需要“{required}”角色的密钥。",
                 "您的金鑰角色為「{role}」，此操作需要「{required}」角色的金鑰。"),
    "err.FORBIDDEN": ("Only {orgs} may do this; this console belongs to {org}.",
                      "只有{orgs}可以执行此操作；本控制台属于{org}。",
                      "只有{orgs}可以執行此操作；本控制台屬於{org}。"),
    "err.NOT_FOUND": ("There is no such record.", "没有找到该记录。", "找不到該記錄。"),
    "err.ALREADY_EXISTS": ("A record with this id already exists.", "该编号的记录已存在。",
                           "該編號的記錄已存在。"),
    "err.INVALID_STATE": ("This is not possible in the record's current state.",
                          "记录当前的状态不允许此操作。", "記錄目前的狀態不允許此操作。"),
    "err.INVALID_ARGUMENT": ("Some values are not valid; check the form.",
                             "部分数值无效，请检查表单。", "部分數值無效，請檢查表單。"),
    "err.fields": ("Check these fields: {fields}.", "请检查以下字段：{fields}。",
                   "請檢查以下欄位：{fields}。"),
    "err.conflict": ("Someone changed the same record at the same moment; try again.",
                     "有人同时修改了同一记录，请重试。", "有人同時修改了同一記錄，請重試。"),
    "err.endorsement": ("The organisations whose approval this needs did not endorse it.",
                        "需要批准此操作的机构未予背书。", "需要批准此操作的機構未予背書。"),
    "err.unavailable": ("The organisation's peer is not reachable right now; try again in a "
                        "moment.", "本机构的节点暂时无法连接，请稍后重试。",
                        "本機構的節點暫時無法連線，請稍後重試。"),
    "err.unknown_outcome": ("The write was sent but its outcome is not known yet; look again "
                            "before repeating it.", "写入已发送但结果未知，请先查看再决定是否重试。",
                            "寫入已發送但結果未知，請先查看再決定是否重試。"),
    "err.other": ("The request was refused ({code}).", "请求被拒绝（{code}）。",
                  "請求被拒絕（{code}）。"),
    "err.amount": ("Enter an amount in yuan with at most two decimals.",
                   "请输入金额（元），最多两位小数。", "請輸入金額（元），最多兩位小數。"),
}

# The 403 sentence names the orgs that may do an action: the chaincodes' MSP checks.
ACTION_ORGS = {
    "register_project": ("LessorMSP", "HKPartnerMSP", "MacaoPartnerMSP"),
    "express_interest": ("HKPartnerMSP", "MacaoPartnerMSP"),
    "lease": ("LessorMSP",),
    "submit_report": ("LessorMSP",),
    "submit_reading": ("GridMSP",),
    "decide_report": ("RegulatorMSP",),
    "publish_factor": ("RegulatorMSP",),
    "see_terms": ("LessorMSP", "RegulatorMSP"),
}


def catalog(language: str) -> dict[str, str]:
    index = LANGUAGES.index(language)
    return {key: texts[index] for key, texts in _CATALOG.items()}
