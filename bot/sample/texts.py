"""Parts the demo history composes residents' and staff's messages from (sample data).

Every message is put together from a place, a problem, how long it has lasted and how the
person feels, so six months of reports do not read like one template repeated. Names are
made up; there are no phone numbers here on purpose.
"""
from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万严武戴孔汤"
# How neighbours show up in a group chat: a surname and what people call them.
CALLED = ("阿姨", "大爷", "先生", "女士", "师傅", "姐", "哥", "奶奶", "叔", "老师")

# Problems by the category the bot should file them under: (category, [what is wrong]).
PROBLEMS: dict[str, list[str]] = {
    "property": ["楼道灯坏了", "单元门禁刷不开", "楼道里的声控灯不亮", "单元门关不上", "楼道窗户玻璃碎了",
                 "保安晚上不巡逻", "物业收了维修金一直没人来修", "信报箱被撬了", "楼顶防水层开裂漏水"],
    "sanitation": ["垃圾桶满了没人清", "楼道里堆满了杂物", "垃圾站味道很大", "草坪上全是狗屎没人打扫",
                   "装修垃圾堆在楼下一个星期了", "分类垃圾桶的盖子坏了", "楼道里有老鼠"],
    "parking": ["有人把车停在消防通道上", "电动车乱停把路堵死了", "车棚的充电桩坏了", "外来车辆占了业主车位",
                "僵尸车停了大半年没人管", "地库出入口被车挡住了"],
    "roads": ["路灯不亮", "下水道堵了积水很深", "井盖松了踩上去会翻", "路面塌了一个坑", "雨水篦子被树叶堵住了"],
    "utilities": ["水压太低楼上没水", "暖气不热", "停水了也没通知", "水管漏水", "燃气表箱锈坏了", "宽带线被剪断了"],
    "elevator": ["电梯又坏了", "电梯门关不严", "电梯按钮失灵", "电梯运行时咣当响", "电梯里的灯不亮"],
    "noise": ["楼上装修电钻声太吵", "广场舞音响开得太大", "楼下商铺空调外机噪音很大", "半夜有人在楼下喝酒喧哗"],
    "greening": ["绿化带的树枝挡住了路灯", "草坪被踩秃了没人补种", "树上的枯枝随时会掉下来", "绿化带被人开荒种菜"],
    "pets": ["有人遛狗不拴绳", "楼上养的狗整夜叫", "流浪猫在车库里越来越多"],
    "safety": ["有人在楼道里给电瓶车充电", "消防栓的水带不见了", "楼道里的灭火器过期了", "小区围墙有个豁口谁都能进"],
    "dispute": ["邻居把鞋柜摆在公共过道上", "楼上空调滴水滴到我家窗台", "邻居在公共区域私搭乱建"],
    "assistance": ["独居的老人好几天没下楼了", "腿脚不便的老人下不了楼买菜"],
}
# How often each kind of problem comes up in a compound (roughly what districts report).
CATEGORY_WEIGHTS = {"property": 22, "sanitation": 14, "parking": 14, "roads": 9, "utilities": 9, "elevator": 8,
                    "noise": 8, "greening": 5, "pets": 4, "safety": 4, "dispute": 2, "assistance": 1}
SPOTS = ("门口", "楼下", "东侧", "后面", "旁边", "北门", "南门", "东门", "地下车库", "中心花园", "健身器材旁边", "快递柜旁边")
LASTING = ("好几天了", "一个星期了", "从昨晚开始", "今天早上发现", "这个月第二次了", "反映过一次了", "有半个月了", "")
MOODS = ("希望尽快处理", "麻烦支部给看看", "老人孩子出行很不方便", "谢谢了", "大家都很着急", "物业说不归他们管",
         "晚上特别危险", "能不能派人来看一下", "再不修要出事了", "")
URGENT = ("{b}号楼{u}单元楼道里冒烟了，好像是电瓶车着火了，快来人", "{b}号楼电梯困人了，里面有个老人喊救命",
          "{b}号楼{u}单元一楼闻到很浓的煤气味，快叫人来", "{b}号楼{u}单元水管爆了，水从楼梯往下流，快关总阀",
          "{b}号楼{u}单元的独居老人敲门没人应，屋里有异味，快来人看看")
# Paraphrases a second neighbour uses for the same problem (the bot merges them or the branch does).
ECHOES = ("{loc}{problem}，我家也是", "{loc}{problem}，还没人管吗", "同样的问题，{loc}{problem}", "+1 {loc}{problem}")

RESOLUTIONS: dict[str, list[str]] = {
    "property": ["已更换灯具，恢复正常", "已维修完毕并加装了防护", "维修人员已上门处理，后续每周巡查"],
    "sanitation": ["已安排保洁清运，并增加清运频次", "已清理完毕，张贴了文明提示", "已消杀并封堵了鼠洞"],
    "parking": ["已联系车主挪车，通道恢复畅通", "已在消防通道施划禁停标线", "充电桩已修复，线路检查过"],
    "roads": ["已疏通管道", "井盖已更换加固", "路面已修补"],
    "utilities": ["供水公司已调整水压", "已维修管道，恢复正常", "已联系热力公司排气，室温恢复"],
    "elevator": ["维保单位已修复，电梯恢复运行", "已更换门机部件，经检测合格"],
    "noise": ["已上门劝导，对方承诺按规定时间施工", "已与商铺协调更换静音设备"],
    "greening": ["已修剪树枝", "已补种草皮并设置围挡"],
    "pets": ["已上门提醒文明养犬", "已联系动物救助站处理"],
    "safety": ["已清理楼道充电车辆并张贴提示", "已补齐消防器材", "围墙豁口已封堵"],
    "dispute": ["经调解双方达成一致", "已协调当事人整改"],
    "assistance": ["网格员已上门看望，老人身体无碍", "已联系志愿者定期帮老人买菜"],
}
NOTES = ("已联系维修单位，预计明天上门", "材料已订，到货后马上处理", "已到现场查看，需要业委会同意动用维修金",
         "已电话回访反映人，说明了处理进度", "涉及多户，先上门逐户沟通")
RATINGS_GOOD = ("满意", "满意，谢谢支部", "非常满意，处理得很快", "满意，辛苦了", "挺满意的")
RATINGS_BASIC = ("基本满意", "基本满意，希望以后快一点", "基本满意吧")
RATINGS_BAD = ("不满意，还是没修好", "不满意，过两天又坏了", "不满意，只是应付了一下")

WISHES = ("想找人帮忙修一下轮椅的刹车", "家里的水龙头一直滴水，想找人帮忙换一个", "想请人教我用手机挂号",
          "孩子放学没人接，想找人帮忙接两天", "想找人帮忙把旧衣服送到捐赠点", "想请人陪我去医院复查",
          "家里灯泡坏了，够不着，想找人帮忙换", "想找人帮忙读一下社保的通知", "想给老伴过生日，找人帮忙订个蛋糕",
          "想找人帮忙搬一下阳台上的花盆")
WISH_PROGRESS = ("已联系上，周六上门", "零件已经买好了", "约好了明天上午过去")
WISH_DONE = ("已经弄好了", "陪老人去过了，一切顺利", "已经换好了，试过没问题")
GIVE_UP = ("这周临时出差，来不了", "家里有事，先放回去，抱歉")

NOTICES = ("本周六上午9点小区议事日，地点党群服务站，欢迎大家参加。", "明天上午8点到12点小区停水检修，请提前储水。",
           "电动车请勿进楼道充电，请到车棚充电桩充电，注意用电安全。", "本周五小区开展消杀，请关好门窗，看管好宠物。",
           "社区卫生服务站下周二在小区广场义诊，免费量血压测血糖。", "近期电信诈骗多发，请大家不要轻信陌生电话和链接。",
           "小区垃圾分类督导员招募中，党员、志愿者请踊跃报名。", "入冬后请大家检查燃气软管，发现老化及时更换。")
COLLECTIONS = ("议事日报名: 楼号 单元 人数", "老年助餐登记: 楼号 单元 人数", "春节慰问走访登记: 楼号 单元 人数")
DUTY_NOTES = {"P1": ("检查了3号楼楼道，清理了两处杂物", "消防通道畅通，提醒了两户挪走纸箱", "5号楼楼道有电瓶车，已劝离", ""),
              "P2": ("陪王奶奶去买了菜", "帮孙阿姨取了药", "给两位独居老人送了饭", "")}
VISIT_TARGETS = (("日走访", "2号楼1单元101 王奶奶", "独居老人"), ("周入户", "5号楼2单元302 陈大爷", "残疾人家庭"),
                 ("周入户", "1号楼3单元201 孙阿姨", "低保户"), ("月遍访", "6号楼1单元602 刘家", "困境儿童家庭"))
CHATTER = ("今天天气不错", "有人知道菜市场几点关门吗", "哈哈哈", "谢谢物业", "早上好", "明天要降温了，大家注意保暖",
           "谁家的快递放错了，在3号楼门口", "周末有一起打羽毛球的吗")


def person_names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """``count`` made-up display names (王阿姨, 刘师傅 …), none in ``taken``."""
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(CALLED)
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def category(rng: random.Random) -> str:
    return rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]


# Problems inside a building are reported with its number, not with a spot outdoors.
INDOORS = ("楼道", "单元", "电梯", "楼顶", "楼上", "楼下", "窗", "信报箱", "门禁", "邻居", "水管", "暖气", "水压", "燃气", "宽带")


def place(rng: random.Random, buildings: list[str], indoors: bool = False) -> tuple[str, str]:
    """(where as written, building number)."""
    building = rng.choice(buildings)
    if indoors:
        return (f"{building}号楼{rng.randint(1, 3)}单元" if rng.random() < 0.7 else f"{building}号楼"), building
    roll = rng.random()
    if roll < 0.45:
        return f"{building}号楼{rng.randint(1, 3)}单元", building
    if roll < 0.8:
        return f"{building}号楼{rng.choice(SPOTS)}", building
    return f"小区{rng.choice(SPOTS)}", building


def report(rng: random.Random, cat: str, buildings: list[str]) -> tuple[str, str, str]:
    """(message, where, problem): a resident's report put together from parts."""
    problem = rng.choice(PROBLEMS[cat])
    where, _ = place(rng, buildings, indoors=any(word in problem for word in INDOORS))
    lasting, mood = rng.choice(LASTING), rng.choice(MOODS)
    text = where + problem + ("，" + lasting if lasting else "") + ("，" + mood if mood else "")
    return text, where, problem


def urgent(rng: random.Random, buildings: list[str]) -> str:
    return rng.choice(URGENT).format(b=rng.choice(buildings), u=rng.randint(1, 3))


def echo(rng: random.Random, where: str, problem: str) -> str:
    return rng.choice(ECHOES).format(loc=where, problem=problem)


def topic(text: str) -> str:
    """A discussion-day topic from a report: its first clause, without the 四定 keywords."""
    first = text.split("，")[0]
    for word in ("议题", "范围", "责任"):
        first = first.replace(word, "")
    return first[:24]
