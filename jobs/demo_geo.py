"""Place names for the demo organisation: one province, its cities, counties and outlet names.

Real geography (Zhejiang's 11 cities and 90 county-level divisions) so the demo reads like a real
deployment; every figure attached to these names is generated and labelled as demo data.
"""

from __future__ import annotations

HQ = ("HQ", "电网公司总部", "Grid Company HQ")
PROVINCE = ("ZJ", "浙江省电力公司", "Zhejiang Electric Power")

# city code, zh, en, economic level 0..1 (drives the demo's regional differences), counties (zh, en)
CITIES: tuple[tuple[str, str, str, float, tuple[tuple[str, str], ...]], ...] = (
    ("HZ", "杭州", "Hangzhou", 0.70, (
        ("上城区", "Shangcheng"), ("拱墅区", "Gongshu"), ("西湖区", "Xihu"), ("滨江区", "Binjiang"),
        ("萧山区", "Xiaoshan"), ("余杭区", "Yuhang"), ("临平区", "Linping"), ("钱塘区", "Qiantang"),
        ("富阳区", "Fuyang"), ("临安区", "Lin'an"), ("桐庐县", "Tonglu"), ("淳安县", "Chun'an"),
        ("建德市", "Jiande"))),
    ("NB", "宁波", "Ningbo", 0.62, (
        ("海曙区", "Haishu"), ("江北区", "Jiangbei"), ("北仑区", "Beilun"), ("镇海区", "Zhenhai"),
        ("鄞州区", "Yinzhou"), ("奉化区", "Fenghua"), ("象山县", "Xiangshan"), ("宁海县", "Ninghai"),
        ("余姚市", "Yuyao"), ("慈溪市", "Cixi"))),
    ("WZ", "温州", "Wenzhou", 0.50, (
        ("鹿城区", "Lucheng"), ("龙湾区", "Longwan"), ("瓯海区", "Ouhai"), ("洞头区", "Dongtou"),
        ("永嘉县", "Yongjia"), ("平阳县", "Pingyang"), ("苍南县", "Cangnan"), ("文成县", "Wencheng"),
        ("泰顺县", "Taishun"), ("瑞安市", "Rui'an"), ("乐清市", "Yueqing"), ("龙港市", "Longgang"))),
    ("LS", "丽水", "Lishui", 0.30, (
        ("莲都区", "Liandu"), ("青田县", "Qingtian"), ("缙云县", "Jinyun"), ("遂昌县", "Suichang"),
        ("松阳县", "Songyang"), ("云和县", "Yunhe"), ("庆元县", "Qingyuan"),
        ("景宁畲族自治县", "Jingning"), ("龙泉市", "Longquan"))),
    ("JX", "嘉兴", "Jiaxing", 0.56, (
        ("南湖区", "Nanhu"), ("秀洲区", "Xiuzhou"), ("嘉善县", "Jiashan"), ("海盐县", "Haiyan"),
        ("海宁市", "Haining"), ("平湖市", "Pinghu"), ("桐乡市", "Tongxiang"))),
    ("HU", "湖州", "Huzhou", 0.50, (
        ("吴兴区", "Wuxing"), ("南浔区", "Nanxun"), ("德清县", "Deqing"), ("长兴县", "Changxing"),
        ("安吉县", "Anji"))),
    ("SX", "绍兴", "Shaoxing", 0.55, (
        ("越城区", "Yuecheng"), ("柯桥区", "Keqiao"), ("上虞区", "Shangyu"), ("新昌县", "Xinchang"),
        ("诸暨市", "Zhuji"), ("嵊州市", "Shengzhou"))),
    ("JH", "金华", "Jinhua", 0.45, (
        ("婺城区", "Wucheng"), ("金东区", "Jindong"), ("武义县", "Wuyi"), ("浦江县", "Pujiang"),
        ("磐安县", "Pan'an"), ("兰溪市", "Lanxi"), ("义乌市", "Yiwu"), ("东阳市", "Dongyang"),
        ("永康市", "Yongkang"))),
    ("QZ", "衢州", "Quzhou", 0.35, (
        ("柯城区", "Kecheng"), ("衢江区", "Qujiang"), ("常山县", "Changshan"), ("开化县", "Kaihua"),
        ("龙游县", "Longyou"), ("江山市", "Jiangshan"))),
    ("ZS", "舟山", "Zhoushan", 0.42, (
        ("定海区", "Dinghai"), ("普陀区", "Putuo"), ("岱山县", "Daishan"), ("嵊泗县", "Shengsi"))),
    ("TZ", "台州", "Taizhou", 0.46, (
        ("椒江区", "Jiaojiang"), ("黄岩区", "Huangyan"), ("路桥区", "Luqiao"), ("三门县", "Sanmen"),
        ("天台县", "Tiantai"), ("仙居县", "Xianju"), ("温岭市", "Wenling"), ("临海市", "Linhai"),
        ("玉环市", "Yuhuan"))),
)

# Outlet names inside a county: (zh, en, is_service_hall)
OUTLETS = (
    ("城区供电所", "Urban Supply Station", False),
    ("中心营业厅", "Central Service Hall", True),
    ("城东供电所", "Chengdong Supply Station", False),
    ("城西供电所", "Chengxi Supply Station", False),
    ("城南供电所", "Chengnan Supply Station", False),
    ("城北供电所", "Chengbei Supply Station", False),
    ("新区供电所", "New District Supply Station", False),
)
